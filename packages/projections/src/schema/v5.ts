/**
 * Schema 5: an agent's message count moves from `agent_stats` to `message_counts`, kept by the
 * trigger on `messages`. `messages` and its count then form a group no other table's rows depend
 * on, which a rebuild builds on its second core beside the timeline (ADR 0010, session 13).
 */
export const V5 = `
DROP TRIGGER message_counted;
ALTER TABLE agent_stats DROP COLUMN messages;
CREATE TABLE message_counts (
  agent TEXT PRIMARY KEY,
  messages INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TRIGGER message_counted AFTER INSERT ON messages BEGIN
  INSERT INTO message_counts (agent, messages) VALUES (NEW.agent, 1) ON CONFLICT (agent) DO UPDATE SET messages = messages + 1;
END;
`;
