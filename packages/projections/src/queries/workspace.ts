import type { Queryable } from "./queryable.ts";

export interface WorkspaceStatus {
  readonly id: string;
  readonly name: string;
  readonly status: string;
  readonly createdAt: number;
  readonly lastActivityAt: number;
  /** When the renewable lifetime ends (null while not running). */
  readonly expiresAt: number | null;
  /** When the hard maximum of this running period ends (null while not running). */
  readonly maxExpiresAt: number | null;
  readonly hibernatedAt: number | null;
  readonly snapshotRef: string | null;
  readonly error: string | null;
  readonly config: { idleTimeoutMs: number; hibernateAfterMs: number; lifetimeMs: number; maxLifetimeMs: number };
  readonly agents: number;
  readonly agentsOnline: number;
  readonly openPrompts: number;
  readonly heldLocks: number;
  /** The last event applied, as the timeline knows it. */
  readonly lastSeq: number;
  readonly lastTs: string | null;
}

const WORKSPACE = `SELECT id, name, status, created_at AS createdAt, last_activity_at AS lastActivityAt, expires_at AS expiresAt,
  max_expires_at AS maxExpiresAt, hibernated_at AS hibernatedAt, snapshot_ref AS snapshotRef, error,
  idle_timeout_ms AS idleTimeoutMs, hibernate_after_ms AS hibernateAfterMs, lifetime_ms AS lifetimeMs, max_lifetime_ms AS maxLifetimeMs,
  (SELECT count(*) FROM agents) AS agents,
  (SELECT count(*) FROM agents WHERE runner_connected = 1) AS agentsOnline,
  (SELECT count(*) FROM prompts WHERE status = 'queued') + (SELECT count(*) FROM prompts WHERE status = 'processing') AS openPrompts,
  (SELECT count(DISTINCT path) FROM lock_holders) AS heldLocks,
  (SELECT max(seq) FROM timeline) AS lastSeq,
  (SELECT ts FROM timeline WHERE seq = (SELECT max(seq) FROM timeline)) AS lastTs
FROM workspaces LIMIT 1`;

type Row = Omit<WorkspaceStatus, "config" | "lastSeq"> & WorkspaceStatus["config"] & { lastSeq: number | null };

/** The workspace of this projection, with headline counts; undefined before `workspace.created`. */
export const workspaceStatus = (q: Queryable): WorkspaceStatus | undefined => {
  const row = q.statement(WORKSPACE).get() as Row | undefined;
  if (row === undefined) return undefined;
  const { idleTimeoutMs, hibernateAfterMs, lifetimeMs, maxLifetimeMs, lastSeq, ...rest } = row;
  return { ...rest, lastSeq: lastSeq ?? 0, config: { idleTimeoutMs, hibernateAfterMs, lifetimeMs, maxLifetimeMs } };
};
