/**
 * Schema 3: narrower timeline indexes. `seq` is the table's rowid, which every index entry already
 * ends with, so `(type)` serves `type = ? ORDER BY seq` as well as `(type, seq)` did, with one
 * integer less per entry: a rebuild sorts and writes four smaller indexes.
 */
export const V3 = `
DROP INDEX timeline_by_type;
DROP INDEX timeline_by_entity;
DROP INDEX timeline_by_agent;
DROP INDEX timeline_by_agent_type;
CREATE INDEX timeline_by_type ON timeline (type);
CREATE INDEX timeline_by_entity ON timeline (entity);
CREATE INDEX timeline_by_agent ON timeline (agent);
CREATE INDEX timeline_by_agent_type ON timeline (agent, type);
`;
