import { stmt, type Stmt } from "./sql.ts";
import type { Part } from "./types.ts";

/** Ends `agent`'s wait on `path`, if it waits: the lock_wait_ended trigger folds it into the contention totals. */
const endWait = (path: string, agent: string, at: number): Stmt =>
  stmt("UPDATE lock_waiters SET ended_at = ? WHERE path = ? AND agent = ?", at, path, agent);

/** The agents a new waiter waits on: the other holders or, when there are none, the waiters ahead of it. */
const recordBlockers = (path: string, agent: string): Stmt =>
  stmt(
    `INSERT INTO lock_blockers (path, waiter, blocker)
       SELECT path, ?, agent FROM lock_holders WHERE path = ? AND agent <> ?
       UNION ALL
       SELECT path, ?, agent FROM lock_waiters WHERE path = ? AND agent <> ?
         AND NOT EXISTS (SELECT 1 FROM lock_holders WHERE path = ? AND agent <> ?)`,
    agent, path, agent, agent, path, agent, path, agent,
  );

const dropHolder = (path: string, agent: string): Stmt => stmt("DELETE FROM lock_holders WHERE path = ? AND agent = ?", path, agent);

export const lockProjectors = {
  "lock.acquired": ({ payload: p }) => [
    endWait(p.path, p.agent, p.at),
    stmt(
      `INSERT INTO lock_holders (path, agent, mode, token, since, expires_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (path, agent) DO UPDATE SET
           mode = excluded.mode, token = excluded.token, since = excluded.since, expires_at = excluded.expires_at`,
      p.path, p.agent, p.mode, p.token, p.at, p.expiresAt,
    ),
    stmt("INSERT INTO locks (path, token) VALUES (?, ?) ON CONFLICT (path) DO UPDATE SET token = excluded.token", p.path, p.token),
  ],
  "lock.queued": ({ seq, payload: p }) => [
    recordBlockers(p.path, p.agent),
    stmt(
      "INSERT INTO lock_waiters (path, agent, mode, lease_ms, since, queued_seq) VALUES (?, ?, ?, ?, ?, ?)",
      p.path, p.agent, p.mode, p.leaseMs, p.at, seq,
    ),
  ],
  "lock.renewed": ({ payload: p }) => [
    stmt("UPDATE lock_holders SET expires_at = ? WHERE path = ? AND agent = ?", p.expiresAt, p.path, p.agent),
  ],
  "lock.released": ({ payload: p }) => [dropHolder(p.path, p.agent)],
  "lock.lease_expired": ({ payload: p }) => [dropHolder(p.path, p.agent)],
  "lock.wait_cancelled": ({ payload: p }) => [endWait(p.path, p.agent, p.at)],
} satisfies Part;
