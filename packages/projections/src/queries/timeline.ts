import { clampLimit, type Page, type Queryable, toPage } from "./queryable.ts";

export interface TimelineEntry {
  readonly seq: number;
  readonly ts: string;
  readonly type: string;
  readonly entity: string;
  readonly agent: string | null;
}

export interface TimelineQuery {
  readonly type?: string;
  readonly agent?: string;
  readonly entity?: string;
  /** Oldest first from just after this seq (default 0)... */
  readonly after?: number;
  /** ...or, when set, newest first from just before this seq. */
  readonly before?: number;
  readonly limit?: number;
}

const FILTERS = ["type", "agent", "entity"] as const;

/** Timeline rows with their names (type, entity and agent are stored as ids of timeline_names). */
const SELECT = `SELECT t.seq, t.ts, ty.name AS type, en.name AS entity, ag.name AS agent FROM timeline t
  JOIN timeline_names ty ON ty.id = t.type JOIN timeline_names en ON en.id = t.entity LEFT JOIN timeline_names ag ON ag.id = t.agent`;

/**
 * A page of the timeline index in seq order, filtered by any of type, agent and entity. The
 * payloads stay in the log: read them by seq. `next` continues in the same direction.
 */
export const timelinePage = (q: Queryable, query: TimelineQuery = {}): Page<TimelineEntry> => {
  const limit = clampLimit(query.limit);
  const backward = query.before !== undefined;
  const where = [backward ? "t.seq < ?" : "t.seq > ?"];
  const params: Array<string | number> = [backward ? query.before! : (query.after ?? 0)];
  for (const filter of FILTERS) {
    const value = query[filter];
    if (value !== undefined) {
      where.push(`t.${filter} = (SELECT id FROM timeline_names WHERE name = ?)`);
      params.push(value);
    }
  }
  const sql = `${SELECT} WHERE ${where.join(" AND ")} ORDER BY t.seq ${backward ? "DESC" : "ASC"} LIMIT ?`;
  const rows = q.statement(sql).all(...params, limit + 1) as TimelineEntry[];
  return toPage(rows, limit, (entry) => entry.seq);
};
