import { clampLimit, type Queryable } from "./queryable.ts";

export interface TaskRow {
  readonly id: string;
  readonly title: string;
  readonly priority: number;
  readonly assignee: string | null;
  /** JSON text of the task's data. */
  readonly data: string | null;
  readonly createdBy: string;
  /** pending | claimed */
  readonly status: string;
  readonly claimedBy: string | null;
  readonly createdAt: number;
  readonly claimedAt: number | null;
}

const OPEN_TASKS = `SELECT id, title, priority, assignee, data, created_by AS createdBy, status, claimed_by AS claimedBy,
  created_at AS createdAt, claimed_at AS claimedAt
FROM tasks WHERE status IN ('pending', 'claimed') ORDER BY priority DESC, enqueued_seq LIMIT ?`;

/** The coordinator's open tasks in claim order, at most `limit` (default 50). */
export const openTasks = (q: Queryable, options: { limit?: number } = {}): TaskRow[] =>
  q.statement(OPEN_TASKS).all(clampLimit(options.limit)) as TaskRow[];

export interface SharedEntry {
  readonly key: string;
  /** JSON text. */
  readonly value: string;
  readonly updatedBy: string;
  readonly updatedAt: number;
}

/** The shared context (key → value, updatedBy, updatedAt). */
export const sharedContext = (q: Queryable): SharedEntry[] =>
  q.statement("SELECT key, value, updated_by AS updatedBy, updated_at AS updatedAt FROM shared_context ORDER BY key").all() as SharedEntry[];
