import { Schema } from "effect";
import { defineEvent } from "@atelier/events/schema";
import { Id, Millis, Positive } from "../schemas.ts";

export const LockMode = Schema.Literals(["shared", "exclusive"]);
export type LockMode = typeof LockMode.Type;

export const lockAcquired = defineEvent("lock.acquired", {
  payload: Schema.Struct({
    at: Millis,
    path: Id,
    agent: Id,
    mode: LockMode,
    /** Fencing token: strictly increasing per path; writes must carry it. */
    token: Positive,
    expiresAt: Millis,
  }),
  doc: "The agent holds the file lock in `mode` with a new fencing token until expiresAt.",
});
export const lockQueued = defineEvent("lock.queued", {
  payload: Schema.Struct({ at: Millis, path: Id, agent: Id, mode: LockMode, leaseMs: Positive }),
  doc: "The request cannot be granted now; the agent waits in FIFO order for a lease of leaseMs.",
});
export const lockRenewed = defineEvent("lock.renewed", {
  payload: Schema.Struct({ at: Millis, path: Id, agent: Id, token: Positive, expiresAt: Millis }),
  doc: "The holder extended its lease.",
});
export const lockReleased = defineEvent("lock.released", {
  payload: Schema.Struct({
    at: Millis,
    path: Id,
    agent: Id,
    token: Positive,
    reason: Schema.Literals(["released", "holder_offline"]),
  }),
  doc: "The holder let go (or went offline); waiters may be granted next.",
});
export const lockLeaseExpired = defineEvent("lock.lease_expired", {
  payload: Schema.Struct({ at: Millis, path: Id, agent: Id, token: Positive }),
  doc: "The lease timer fired before renewal; the grant is void.",
});
export const lockWaitCancelled = defineEvent("lock.wait_cancelled", {
  payload: Schema.Struct({
    at: Millis,
    path: Id,
    agent: Id,
    reason: Schema.Literals(["gave_up", "holder_offline"]),
  }),
  doc: "A waiting request left the queue (timed out, withdrew, or its agent went offline).",
});

export const lockEvents = [lockAcquired, lockQueued, lockRenewed, lockReleased, lockLeaseExpired, lockWaitCancelled] as const;
