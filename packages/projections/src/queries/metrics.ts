import { clampLimit, type Page, type Queryable, toPage } from "./queryable.ts";

export interface AgentMetrics {
  readonly agent: string;
  readonly tokensIn: number;
  readonly tokensOut: number;
  readonly cost: number;
  readonly promptsCompleted: number;
  readonly promptsFailed: number;
  readonly promptsCancelled: number;
  /** completed / (completed + failed), or null before any finished. */
  readonly successRate: number | null;
  /** Mean time from a prompt's (last) start to its completion or failure. */
  readonly avgLatencyMs: number | null;
  /** Mean time from enqueue to first start. */
  readonly avgQueueWaitMs: number | null;
  /** Closed busy stretches only; a stretch in progress started at `busySince`. */
  readonly activeSeconds: number;
  readonly busySince: number | null;
  /** Messages to, from and sent by the agent (prompts, responses, bus). */
  readonly messages: number;
  readonly lockWaitMs: number;
  readonly lockWaits: number;
  readonly tasksCompleted: number;
  readonly tasksFailed: number;
  /** Tool calls its runners reported (edits, reads, runs, searches, locks). */
  readonly toolCalls: number;
  /** Mean time from an attempt's start to its first streamed token, or null before any. */
  readonly avgTimeToFirstTokenMs: number | null;
}

const METRICS = `SELECT s.agent, tokens_in AS tokensIn, tokens_out AS tokensOut, cost,
  prompts_completed AS promptsCompleted, prompts_failed AS promptsFailed, prompts_cancelled AS promptsCancelled,
  CASE WHEN prompts_completed + prompts_failed > 0 THEN 1.0 * prompts_completed / (prompts_completed + prompts_failed) END AS successRate,
  CASE WHEN latency_n > 0 THEN 1.0 * latency_ms / latency_n END AS avgLatencyMs,
  CASE WHEN queue_wait_n > 0 THEN 1.0 * queue_wait_ms / queue_wait_n END AS avgQueueWaitMs,
  active_ms / 1000.0 AS activeSeconds, busy_since AS busySince, coalesce(m.messages, 0) AS messages,
  lock_wait_ms AS lockWaitMs, lock_waits AS lockWaits, tasks_completed AS tasksCompleted, tasks_failed AS tasksFailed,
  tool_calls AS toolCalls, CASE WHEN ttft_n > 0 THEN 1.0 * ttft_ms / ttft_n END AS avgTimeToFirstTokenMs
FROM agent_stats s LEFT JOIN message_counts m ON m.agent = s.agent`;

/** Per-agent totals and means, for every agent or one. */
export const agentMetrics = (q: Queryable, options: { agent?: string } = {}): AgentMetrics[] =>
  (options.agent === undefined
    ? q.statement(`${METRICS} ORDER BY s.agent`).all()
    : q.statement(`${METRICS} WHERE s.agent = ?`).all(options.agent)) as AgentMetrics[];

export interface Run {
  /** prompt | task */
  readonly kind: string;
  readonly id: string;
  readonly agent: string;
  /** completed | failed | cancelled */
  readonly outcome: string;
  readonly queueWaitMs: number | null;
  readonly latencyMs: number | null;
  readonly attempts: number;
  readonly tokensIn: number | null;
  readonly tokensOut: number | null;
  readonly cost: number | null;
  readonly finishedAt: number;
  readonly seq: number;
  /** Prompts only: from the last attempt's start to its first token (null when none streamed). */
  readonly timeToFirstTokenMs: number | null;
  /** Prompts only: tool calls over all attempts. */
  readonly toolCalls: number | null;
}

const RUNS = `SELECT kind, id, agent, outcome, queue_wait_ms AS queueWaitMs, latency_ms AS latencyMs, attempts,
  tokens_in AS tokensIn, tokens_out AS tokensOut, cost, finished_at AS finishedAt, seq,
  ttft_ms AS timeToFirstTokenMs, tool_calls AS toolCalls
FROM agent_metrics WHERE agent = ? AND seq < ? ORDER BY seq DESC LIMIT ?`;

/** One agent's finished prompts and tasks (000's agent_metrics rows), newest first. */
export const agentRuns = (q: Queryable, agent: string, options: { before?: number; limit?: number } = {}): Page<Run> => {
  const limit = clampLimit(options.limit);
  const rows = q.statement(RUNS).all(agent, options.before ?? Number.MAX_SAFE_INTEGER, limit + 1) as Run[];
  return toPage(rows, limit, (run) => run.seq);
};
