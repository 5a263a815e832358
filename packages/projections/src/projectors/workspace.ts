import { stmt, type SqlValue, type Stmt } from "./sql.ts";
import type { Part } from "./types.ts";

/** A status change of the log's workspace row, with more `columns` set; SQL built once. */
const to = (next: string, columns = "") => {
  const sql = `UPDATE workspaces SET status = '${next}', updated_at = ?${columns} WHERE id = ?`;
  return (ws: string, at: number, ...params: SqlValue[]): Stmt => ({ sql, params: [at, ...params, ws] });
};

/** A running period starts (activation, resume, restart): fresh lifetime and maximum from `at`. */
const RUN = ", last_activity_at = ?, max_expires_at = ? + max_lifetime_ms, expires_at = min(? + lifetime_ms, ? + max_lifetime_ms)";
/** Hibernation, termination and errors stop the lifetime timers. */
const STOP = ", expires_at = NULL, max_expires_at = NULL";

const activate = to("active", RUN);
const idle = to("idle");
const hibernating = to("hibernating", STOP);
const terminating = to("terminating", STOP);
const hibernated = to("hibernated", ", hibernated_at = ?, snapshot_ref = ?, snapshot_seq = ?");
const resuming = to("resuming");
const resumed = to("active", `${RUN}, snapshot_ref = ?`);
const terminated = to("terminated");
const failed = to("error", `${STOP}, error = ?`);
const restarted = to("active", `${RUN}, error = NULL`);
const run = (at: number): number[] => [at, at, at, at];

export const workspaceProjectors = {
  "workspace.created": ({ ws, payload: p }) => [
    stmt(
      `INSERT INTO workspaces (id, name, status, idle_timeout_ms, hibernate_after_ms, lifetime_ms, max_lifetime_ms,
         created_at, last_activity_at, updated_at) VALUES (?, ?, 'creating', ?, ?, ?, ?, ?, ?, ?)`,
      ws, p.name, p.config.idleTimeoutMs, p.config.hibernateAfterMs, p.config.lifetimeMs, p.config.maxLifetimeMs, p.at, p.at, p.at,
    ),
  ],
  "workspace.activated": ({ ws, payload: { at } }) => [activate(ws, at, ...run(at))],
  "workspace.touched": ({ ws, payload: { at } }) => [
    stmt(
      "UPDATE workspaces SET status = CASE status WHEN 'idle' THEN 'active' ELSE status END, last_activity_at = ?, updated_at = ? WHERE id = ?",
      at, at, ws,
    ),
  ],
  "workspace.idle_timeout": ({ ws, payload: { at } }) => [idle(ws, at)],
  "workspace.hibernate_timeout": ({ ws, payload: { at } }) => [hibernating(ws, at)],
  "workspace.lifetime_expired": ({ ws, payload: { at } }) => [hibernating(ws, at)],
  "workspace.max_lifetime_reached": ({ ws, payload: { at } }) => [terminating(ws, at)],
  "workspace.renewed": ({ ws, payload: { at } }) => [
    stmt("UPDATE workspaces SET expires_at = min(? + lifetime_ms, max_expires_at), updated_at = ? WHERE id = ?", at, at, ws),
  ],
  "workspace.hibernate_requested": ({ ws, payload: { at } }) => [hibernating(ws, at)],
  "workspace.hibernated": ({ ws, payload: p }) => [hibernated(ws, p.at, p.at, p.snapshotRef, p.seq)],
  "workspace.resume_requested": ({ ws, payload: { at } }) => [resuming(ws, at)],
  "workspace.resumed": ({ ws, payload: p }) => [resumed(ws, p.at, ...run(p.at), p.snapshotRef)],
  "workspace.terminate_requested": ({ ws, payload: { at } }) => [terminating(ws, at)],
  "workspace.terminated": ({ ws, payload: { at } }) => [terminated(ws, at)],
  "workspace.failed": ({ ws, payload: p }) => [failed(ws, p.at, p.message)],
  "workspace.restarted": ({ ws, payload: { at } }) => [restarted(ws, at, ...run(at))],
} satisfies Part;
