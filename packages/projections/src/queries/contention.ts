import type { Queryable } from "./queryable.ts";

export interface ContentionPair {
  readonly waiter: string;
  /** The holder it waited on (or, with no holder, a waiter ahead of it). */
  readonly blocker: string;
  readonly waits: number;
  readonly totalWaitMs: number;
  readonly maxWaitMs: number;
}

export interface OpenWait {
  readonly path: string;
  readonly waiter: string;
  /** Null when everyone it waited on has gone and it still waits its turn. */
  readonly blocker: string | null;
  readonly mode: string;
  readonly startedAt: number;
}

export interface LockContention {
  /** Finished waits, summed per (waiter, blocker), longest total first. */
  readonly pairs: ContentionPair[];
  /** Waits in progress. */
  readonly open: OpenWait[];
}

const PAIRS = `SELECT waiter, blocker, waits, wait_ms AS totalWaitMs, max_wait_ms AS maxWaitMs
FROM lock_contention ORDER BY wait_ms DESC, waiter, blocker`;
const OPEN = `SELECT w.path, w.agent AS waiter, b.blocker, w.mode, w.since AS startedAt
FROM lock_waiters w LEFT JOIN lock_blockers b ON b.path = w.path AND b.waiter = w.agent
ORDER BY w.path, w.queued_seq, b.blocker`;

/** Who waited on whom for locks, and for how long. */
export const lockContention = (q: Queryable): LockContention => ({
  pairs: q.statement(PAIRS).all() as ContentionPair[],
  open: q.statement(OPEN).all() as OpenWait[],
});
