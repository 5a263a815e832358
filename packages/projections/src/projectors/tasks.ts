import { counter } from "./agents.ts";
import { json, stmt, type SqlValue, type Stmt } from "./sql.ts";
import type { Part } from "./types.ts";

const setter = (columns: string) => {
  const sql = `UPDATE tasks SET ${columns} WHERE id = ?`;
  return (id: string, ...params: SqlValue[]): Stmt => ({ sql, params: [...params, id] });
};

const claim = setter("status = 'claimed', claimed_by = ?, claimed_at = ?, claims = claims + 1");
const release = setter("status = 'pending', claimed_by = NULL, claimed_at = NULL");
const complete = setter("status = 'completed', finished_at = ?, result = ?");
const fail = setter("status = 'failed', finished_at = ?, error = ?");
const countCompleted = counter("tasks_completed");
const countFailed = counter("tasks_failed");

/** The metrics row of a finished task: waited from creation to its last claim, worked from claim to finish. */
const metrics = (seq: number, id: string): Stmt =>
  stmt(
    `INSERT INTO agent_metrics (kind, agent, id, outcome, queue_wait_ms, latency_ms, attempts, finished_at, seq)
       SELECT 'task', claimed_by, id, status, claimed_at - created_at, finished_at - claimed_at, claims, finished_at, ?
       FROM tasks WHERE id = ?`,
    seq, id,
  );

export const taskProjectors = {
  "task.enqueued": ({ seq, payload: p }) => [
    stmt(
      `INSERT INTO tasks (id, title, priority, assignee, data, created_by, status, created_at, enqueued_seq)
         VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?)`,
      p.taskId, p.title, p.priority, p.assignee, json(p.data), p.by, p.at, seq,
    ),
  ],
  "task.claimed": ({ payload: p }) => [claim(p.taskId, p.agent, p.at)],
  "task.released": ({ payload: p }) => [release(p.taskId)],
  "task.completed": ({ seq, payload: p }) => [
    complete(p.taskId, p.at, json(p.result)),
    metrics(seq, p.taskId),
    countCompleted(p.agent, 1),
  ],
  "task.failed": ({ seq, payload: p }) => [fail(p.taskId, p.at, p.error), metrics(seq, p.taskId), countFailed(p.agent, 1)],
} satisfies Part;
