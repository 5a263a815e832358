import { counter } from "./agents.ts";
import { stmt, type SqlValue, type Stmt } from "./sql.ts";
import type { Part } from "./types.ts";

/** An update of `columns` on one prompt row; SQL built once. */
const setter = (columns: string) => {
  const sql = `UPDATE prompts SET ${columns} WHERE agent = ? AND id = ?`;
  return (agent: string, id: string, ...params: SqlValue[]): Stmt => ({ sql, params: [...params, agent, id] });
};

const start = setter("status = 'processing', attempts = ?, generation = ?, started_at = ?, first_started_at = coalesce(first_started_at, ?)");
const requeue = setter("status = 'queued', generation = NULL, started_at = NULL, first_token_at = NULL, requeues = requeues + 1");
const firstToken = setter("first_token_at = ?");
const complete = setter("status = 'completed', finished_at = ?, result = ?, tokens_in = ?, tokens_out = ?, cost = ?");
const fail = setter("status = 'failed', finished_at = ?, error = ?");
const cancel = setter("status = 'cancelled', finished_at = ?, cancel_reason = ?");

/** The metrics row of a finished prompt, read from its (already updated) prompt row. */
const metrics = (seq: number, agent: string, id: string): Stmt =>
  stmt(
    `INSERT INTO agent_metrics (kind, agent, id, outcome, queue_wait_ms, latency_ms, attempts, tokens_in, tokens_out, cost, finished_at, seq,
         ttft_ms, tool_calls)
       SELECT 'prompt', agent, id, status, first_started_at - enqueued_at, finished_at - started_at, attempts,
         tokens_in, tokens_out, cost, finished_at, ?, first_token_at - started_at, tool_calls FROM prompts WHERE agent = ? AND id = ?`,
    seq, agent, id,
  );

/** Counts a finished prompt in its agent's totals; `column` is the outcome counter. */
const tally = (column: string) => {
  const sql =
    `INSERT INTO agent_stats (agent, ${column}, latency_ms, latency_n)
       SELECT agent, 1, coalesce(finished_at - started_at, 0), started_at IS NOT NULL FROM prompts WHERE agent = ? AND id = ?
     ON CONFLICT (agent) DO UPDATE SET ${column} = ${column} + 1,
       latency_ms = latency_ms + excluded.latency_ms, latency_n = latency_n + excluded.latency_n`;
  return (agent: string, id: string): Stmt => ({ sql, params: [agent, id] });
};
const tallyCompleted = tally("prompts_completed");
const tallyFailed = tally("prompts_failed");
const countCancelled = counter("prompts_cancelled");

export const promptProjectors = {
  "prompt.enqueued": ({ seq, payload: p }) => [
    stmt(
      `INSERT INTO prompts (agent, id, status, priority, text, author, client_request_id, enqueued_at, enqueued_seq)
         VALUES (?, ?, 'queued', ?, ?, ?, ?, ?, ?)`,
      p.agent, p.promptId, p.priority, p.text, p.author, p.clientRequestId, p.at, seq,
    ),
    stmt(
      "INSERT INTO messages (seq, at, kind, agent, author, ref, body) VALUES (?, ?, 'user', ?, ?, ?, ?)",
      seq, p.at, p.agent, p.author, p.promptId, p.text,
    ),
  ],
  "prompt.started": ({ payload: p }) => [
    stmt(
      `INSERT INTO agent_stats (agent, queue_wait_ms, queue_wait_n)
         SELECT agent, ? - enqueued_at, 1 FROM prompts WHERE agent = ? AND id = ? AND first_started_at IS NULL
       ON CONFLICT (agent) DO UPDATE SET queue_wait_ms = queue_wait_ms + excluded.queue_wait_ms, queue_wait_n = queue_wait_n + 1`,
      p.at, p.agent, p.promptId,
    ),
    start(p.agent, p.promptId, p.attempt, p.generation, p.at, p.at),
  ],
  "prompt.first_token": ({ payload: p }) => [
    firstToken(p.agent, p.promptId, p.at),
    stmt(
      `INSERT INTO agent_stats (agent, ttft_ms, ttft_n) SELECT agent, ? - started_at, 1 FROM prompts WHERE agent = ? AND id = ?
       ON CONFLICT (agent) DO UPDATE SET ttft_ms = ttft_ms + excluded.ttft_ms, ttft_n = ttft_n + 1`,
      p.at, p.agent, p.promptId,
    ),
  ],
  "prompt.requeued": ({ payload: p }) => [requeue(p.agent, p.promptId)],
  "prompt.completed": ({ seq, payload: p }) => [
    complete(p.agent, p.promptId, p.at, p.result, p.tokensIn, p.tokensOut, p.cost),
    metrics(seq, p.agent, p.promptId),
    tallyCompleted(p.agent, p.promptId),
    stmt(
      `INSERT INTO messages (seq, at, kind, agent, author, ref, body, tokens_in, tokens_out, cost)
         VALUES (?, ?, 'agent', ?, ?, ?, ?, ?, ?, ?)`,
      seq, p.at, p.agent, p.agent, p.promptId, p.result, p.tokensIn, p.tokensOut, p.cost,
    ),
  ],
  "prompt.failed": ({ seq, payload: p }) => [
    fail(p.agent, p.promptId, p.at, p.error),
    metrics(seq, p.agent, p.promptId),
    tallyFailed(p.agent, p.promptId),
  ],
  "prompt.cancelled": ({ seq, payload: p }) => [
    cancel(p.agent, p.promptId, p.at, p.reason),
    metrics(seq, p.agent, p.promptId),
    countCancelled(p.agent, 1),
  ],
} satisfies Part;
