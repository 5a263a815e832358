import { stmt, type Stmt } from "./sql.ts";
import type { Part } from "./types.ts";

/** Recomputes a lock's summary row (state, counts, earliest lease end) from its holders and waiters. */
const refresh = (path: string, at: number): Stmt =>
  stmt(
    `UPDATE locks SET
       state = CASE
         WHEN EXISTS (SELECT 1 FROM lock_holders h WHERE h.path = locks.path AND h.mode = 'exclusive') THEN 'exclusive'
         WHEN EXISTS (SELECT 1 FROM lock_holders h WHERE h.path = locks.path) THEN 'shared'
         ELSE 'free' END,
       holders = (SELECT count(*) FROM lock_holders h WHERE h.path = locks.path),
       waiters = (SELECT count(*) FROM lock_waiters w WHERE w.path = locks.path),
       lease_expires_at = (SELECT min(expires_at) FROM lock_holders h WHERE h.path = locks.path),
       updated_at = ?
     WHERE path = ?`,
    at, path,
  );

const ensureLock = (path: string, at: number): Stmt =>
  stmt(
    "INSERT INTO locks (path, state, token, holders, waiters, updated_at) VALUES (?, 'free', 0, 0, 0, ?) ON CONFLICT (path) DO NOTHING",
    path, at,
  );

/**
 * Ends `agent`'s wait on `path` (granted or given up): folds each open wait into the contention
 * totals of (waiter, blocker) and the agent's lock-wait time, closes it, and leaves the queue.
 */
const endWait = (path: string, agent: string, at: number, outcome: string): Stmt[] => [
  stmt(
    `INSERT INTO lock_contention (waiter, blocker, waits, wait_ms, max_wait_ms)
       SELECT waiter, blocker, 1, ? - started_at, ? - started_at FROM lock_waits
       WHERE path = ? AND waiter = ? AND ended_at IS NULL
     ON CONFLICT (waiter, blocker) DO UPDATE SET
       waits = waits + 1, wait_ms = wait_ms + excluded.wait_ms, max_wait_ms = max(max_wait_ms, excluded.max_wait_ms)`,
    at, at, path, agent,
  ),
  stmt("UPDATE lock_waits SET ended_at = ?, outcome = ? WHERE path = ? AND waiter = ? AND ended_at IS NULL", at, outcome, path, agent),
  stmt(
    `INSERT INTO agent_stats (agent, lock_wait_ms, lock_waits)
       SELECT agent, ? - since, 1 FROM lock_waiters WHERE path = ? AND agent = ?
     ON CONFLICT (agent) DO UPDATE SET lock_wait_ms = lock_wait_ms + excluded.lock_wait_ms, lock_waits = lock_waits + 1`,
    at, path, agent,
  ),
  stmt("DELETE FROM lock_waiters WHERE path = ? AND agent = ?", path, agent),
];

/** The agents a new waiter waits on: the other holders or, when there are none, the waiters ahead of it. */
const recordBlockers = (seq: number, path: string, agent: string, mode: string, at: number): Stmt =>
  stmt(
    `INSERT INTO lock_waits (seq, blocker, path, waiter, mode, started_at)
       SELECT ?, agent, path, ?, ?, ? FROM lock_holders WHERE path = ? AND agent <> ?
       UNION ALL
       SELECT ?, agent, path, ?, ?, ? FROM lock_waiters WHERE path = ? AND agent <> ?
         AND NOT EXISTS (SELECT 1 FROM lock_holders WHERE path = ? AND agent <> ?)`,
    seq, agent, mode, at, path, agent, seq, agent, mode, at, path, agent, path, agent,
  );

export const lockProjectors = {
  "lock.acquired": ({ payload: p }) => [
    ensureLock(p.path, p.at),
    ...endWait(p.path, p.agent, p.at, "acquired"),
    stmt(
      `INSERT INTO lock_holders (path, agent, mode, token, since, expires_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (path, agent) DO UPDATE SET
           mode = excluded.mode, token = excluded.token, since = excluded.since, expires_at = excluded.expires_at`,
      p.path, p.agent, p.mode, p.token, p.at, p.expiresAt,
    ),
    stmt("UPDATE locks SET token = ? WHERE path = ?", p.token, p.path),
    refresh(p.path, p.at),
  ],
  "lock.queued": ({ seq, payload: p }) => [
    ensureLock(p.path, p.at),
    recordBlockers(seq, p.path, p.agent, p.mode, p.at),
    stmt(
      "INSERT INTO lock_waiters (path, agent, mode, lease_ms, since, queued_seq) VALUES (?, ?, ?, ?, ?, ?)",
      p.path, p.agent, p.mode, p.leaseMs, p.at, seq,
    ),
    refresh(p.path, p.at),
  ],
  "lock.renewed": ({ payload: p }) => [
    stmt("UPDATE lock_holders SET expires_at = ? WHERE path = ? AND agent = ?", p.expiresAt, p.path, p.agent),
    refresh(p.path, p.at),
  ],
  "lock.released": ({ payload: p }) => [
    stmt("DELETE FROM lock_holders WHERE path = ? AND agent = ?", p.path, p.agent),
    refresh(p.path, p.at),
  ],
  "lock.lease_expired": ({ payload: p }) => [
    stmt("DELETE FROM lock_holders WHERE path = ? AND agent = ?", p.path, p.agent),
    refresh(p.path, p.at),
  ],
  "lock.wait_cancelled": ({ payload: p }) => [...endWait(p.path, p.agent, p.at, p.reason), refresh(p.path, p.at)],
} satisfies Part;
