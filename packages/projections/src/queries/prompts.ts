import { clampLimit, type Queryable } from "./queryable.ts";

const DEFAULT_QUEUE_LIMIT = 20;

export interface QueuedPrompt {
  readonly id: string;
  readonly priority: number;
  readonly text: string;
  readonly author: string;
  readonly enqueuedAt: number;
  readonly startedAt: number | null;
  readonly attempts: number;
  readonly requeues: number;
}

export interface AgentQueue {
  readonly agent: string;
  /** The prompt in flight, if any. */
  readonly processing: QueuedPrompt | null;
  /** The head of the queue in dispatch order: priority descending, then enqueue order. */
  readonly queued: QueuedPrompt[];
  /** How many prompts wait in all (`queued` holds at most `limit`). */
  readonly queuedTotal: number;
}

const COLUMNS = "id, priority, text, author, enqueued_at AS enqueuedAt, started_at AS startedAt, attempts, requeues";
const PROCESSING = `SELECT ${COLUMNS} FROM prompts WHERE agent = ? AND status = 'processing'`;
const QUEUED = `SELECT ${COLUMNS} FROM prompts WHERE agent = ? AND status = 'queued' ORDER BY priority DESC, enqueued_seq LIMIT ?`;
const QUEUED_TOTAL = "SELECT count(*) AS n FROM prompts WHERE agent = ? AND status = 'queued'";
const AGENTS = "SELECT id FROM agents ORDER BY id";

/** The prompt queue of one agent, or of every registered agent, each listing at most `limit` (default 20) waiting prompts. */
export const promptQueue = (q: Queryable, options: { agent?: string; limit?: number } = {}): AgentQueue[] => {
  const limit = clampLimit(options.limit ?? DEFAULT_QUEUE_LIMIT);
  const agents = options.agent === undefined ? (q.statement(AGENTS).all() as Array<{ id: string }>).map((a) => a.id) : [options.agent];
  return agents.map((agent) => ({
    agent,
    processing: (q.statement(PROCESSING).get(agent) as QueuedPrompt | undefined) ?? null,
    queued: q.statement(QUEUED).all(agent, limit) as QueuedPrompt[],
    queuedTotal: (q.statement(QUEUED_TOTAL).get(agent) as { n: number }).n,
  }));
};
