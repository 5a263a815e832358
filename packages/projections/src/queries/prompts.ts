import type { Queryable } from "./queryable.ts";

export interface QueuedPrompt {
  readonly agent: string;
  readonly id: string;
  /** queued | processing */
  readonly status: string;
  readonly priority: number;
  readonly text: string;
  readonly author: string;
  readonly enqueuedAt: number;
  readonly startedAt: number | null;
  readonly attempts: number;
  readonly requeues: number;
}

const COLUMNS = `agent, id, status, priority, text, author, enqueued_at AS enqueuedAt, started_at AS startedAt, attempts, requeues`;
const OPEN = "status IN ('queued', 'processing')";
// Dispatch order per agent: the processing prompt, then priority descending, then enqueue order.
const ORDER = "agent, status = 'queued', priority DESC, enqueued_seq";

/** Open prompts (processing and queued) in dispatch order, for one agent or all of them. */
export const promptQueue = (q: Queryable, options: { agent?: string } = {}): QueuedPrompt[] =>
  (options.agent === undefined
    ? q.statement(`SELECT ${COLUMNS} FROM prompts WHERE ${OPEN} ORDER BY ${ORDER}`).all()
    : q.statement(`SELECT ${COLUMNS} FROM prompts WHERE agent = ? AND ${OPEN} ORDER BY ${ORDER}`).all(options.agent)) as QueuedPrompt[];
