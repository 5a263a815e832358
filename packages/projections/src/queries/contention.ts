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
  readonly blocker: string;
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
const OPEN = `SELECT path, waiter, blocker, mode, started_at AS startedAt FROM lock_waits
WHERE ended_at IS NULL ORDER BY path, waiter, blocker`;

/** Who waited on whom for locks, and for how long. */
export const lockContention = (q: Queryable): LockContention => ({
  pairs: q.statement(PAIRS).all() as ContentionPair[],
  open: q.statement(OPEN).all() as OpenWait[],
});
