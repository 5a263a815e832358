import { assign, emit, setup } from "xstate";
import type { Ev } from "../events.ts";
import type { LockMode } from "./events.ts";

export interface LockHolder {
  readonly agent: string;
  readonly mode: LockMode;
  readonly token: number;
  readonly expiresAt: number;
}
export interface LockWaiter {
  readonly agent: string;
  readonly mode: LockMode;
  readonly leaseMs: number;
  readonly since: number;
}
export interface LockContext {
  readonly path: string;
  /** The last fencing token handed out for this path (0 before the first grant). */
  readonly lastToken: number;
  readonly holders: readonly LockHolder[];
  readonly waiters: readonly LockWaiter[];
}

export type LockEvent = Ev<
  "lock.acquired" | "lock.queued" | "lock.renewed" | "lock.released" | "lock.lease_expired" | "lock.wait_cancelled"
>;

/** Waiters granted as a consequence of a release, an expiry or a cancelled wait; the runtime appends them. */
export interface LockGrantsEffect {
  readonly type: "lock.grants";
  readonly path: string;
  readonly grants: readonly LockWaiter[];
}

const others = (ctx: LockContext, agent: string) => ctx.holders.filter((h) => h.agent !== agent);

/** Whether `agent` may hold `mode` next to the current holders (its own grant may be upgraded). */
export const compatible = (ctx: LockContext, agent: string, mode: LockMode): boolean => {
  const rest = others(ctx, agent);
  return mode === "exclusive" ? rest.length === 0 : rest.every((h) => h.mode === "shared");
};

/**
 * Whether a request can be granted now. FIFO: with anyone waiting, only the head may be granted,
 * which is also what makes a waiting exclusive block new shared requests (no starvation).
 */
export const grantableNow = (ctx: LockContext, agent: string, mode: LockMode): boolean => {
  const head = ctx.waiters[0];
  if (head && head.agent !== agent) return false;
  return compatible(ctx, agent, mode);
};

/** The prefix of the waiters that can be granted in order once the context settles. */
export const nextGrants = (ctx: LockContext): LockWaiter[] => {
  const grants: LockWaiter[] = [];
  let holders = ctx.holders;
  for (const w of ctx.waiters) {
    const view = { ...ctx, holders };
    if (!compatible(view, w.agent, w.mode)) break;
    grants.push(w);
    holders = [...holders.filter((h) => h.agent !== w.agent), { agent: w.agent, mode: w.mode, token: 0, expiresAt: 0 }];
  }
  return grants;
};

export const holderOf = (ctx: LockContext, agent: string): LockHolder | undefined => ctx.holders.find((h) => h.agent === agent);
const holdsToken = (ctx: LockContext, agent: string, token: number) => holderOf(ctx, agent)?.token === token;
const isWaiting = (ctx: LockContext, agent: string) => ctx.waiters.some((w) => w.agent === agent);
/** A holder's current grant already covers `mode` (exclusive covers shared). */
export const covers = (h: LockHolder | undefined, mode: LockMode) => h !== undefined && (h.mode === "exclusive" || mode === "shared");

const dropHolder = (ctx: LockContext, agent: string): Partial<LockContext> => ({ holders: others(ctx, agent) });

export const initialLockContext = (path: string): LockContext => ({ path, lastToken: 0, holders: [], waiters: [] });

/**
 * One file lock: free | shared | exclusive, derived from the holders after every event. Leases are
 * deadlines in context; the runtime's timer appends `lock.lease_expired` when one passes.
 */
export const lockMachine = setup({
  types: {
    context: {} as LockContext,
    events: {} as LockEvent,
    input: {} as { path: string },
    emitted: {} as LockGrantsEffect,
  },
  guards: {
    canAcquire: ({ context, event }) => {
      if (event.type !== "lock.acquired") return false;
      const p = event.payload;
      return (
        p.path === context.path &&
        p.token === context.lastToken + 1 &&
        !covers(holderOf(context, p.agent), p.mode) &&
        grantableNow(context, p.agent, p.mode)
      );
    },
    canQueue: ({ context, event }) => {
      if (event.type !== "lock.queued") return false;
      const p = event.payload;
      return (
        p.path === context.path &&
        !covers(holderOf(context, p.agent), p.mode) &&
        !isWaiting(context, p.agent) &&
        !grantableNow(context, p.agent, p.mode)
      );
    },
    holdsToken: ({ context, event }) =>
      (event.type === "lock.renewed" || event.type === "lock.released") &&
      holdsToken(context, event.payload.agent, event.payload.token),
    leaseOver: ({ context, event }) =>
      event.type === "lock.lease_expired" &&
      holdsToken(context, event.payload.agent, event.payload.token) &&
      event.payload.at >= holderOf(context, event.payload.agent)!.expiresAt,
    isWaiting: ({ context, event }) => event.type === "lock.wait_cancelled" && isWaiting(context, event.payload.agent),
    hasExclusive: ({ context }) => context.holders.some((h) => h.mode === "exclusive"),
    hasShared: ({ context }) => context.holders.length > 0 && context.holders.every((h) => h.mode === "shared"),
    isFree: ({ context }) => context.holders.length === 0,
  },
  actions: {
    grant: assign(({ context, event }) => {
      if (event.type !== "lock.acquired") return {};
      const { agent, mode, token, expiresAt } = event.payload;
      return {
        lastToken: token,
        holders: [...others(context, agent), { agent, mode, token, expiresAt }],
        waiters: context.waiters.filter((w) => w.agent !== agent),
      };
    }),
    enqueue: assign(({ context, event }) => {
      if (event.type !== "lock.queued") return {};
      const { agent, mode, leaseMs, at } = event.payload;
      return { waiters: [...context.waiters, { agent, mode, leaseMs, since: at }] };
    }),
    renew: assign(({ context, event }) => {
      if (event.type !== "lock.renewed") return {};
      const { agent, expiresAt } = event.payload;
      return { holders: context.holders.map((h) => (h.agent === agent ? { ...h, expiresAt } : h)) };
    }),
    drop: assign(({ context, event }) =>
      event.type === "lock.released" || event.type === "lock.lease_expired" ? dropHolder(context, event.payload.agent) : {},
    ),
    unwait: assign(({ context, event }) =>
      event.type === "lock.wait_cancelled" ? { waiters: context.waiters.filter((w) => w.agent !== event.payload.agent) } : {},
    ),
    announceGrants: emit(({ context }) => ({ type: "lock.grants" as const, path: context.path, grants: nextGrants(context) })),
  },
}).createMachine({
  id: "lock",
  context: ({ input }) => initialLockContext(input.path),
  initial: "free",
  // Any accepted event recomputes the state from the holders; states are derived, never stored twice.
  on: {
    "lock.acquired": { guard: "canAcquire", actions: "grant", target: ".settle" },
    "lock.queued": { guard: "canQueue", actions: "enqueue", target: ".settle" },
    "lock.renewed": { guard: "holdsToken", actions: "renew", target: ".settle" },
    "lock.released": { guard: "holdsToken", actions: ["drop", "announceGrants"], target: ".settle" },
    "lock.lease_expired": { guard: "leaseOver", actions: ["drop", "announceGrants"], target: ".settle" },
    "lock.wait_cancelled": { guard: "isWaiting", actions: ["unwait", "announceGrants"], target: ".settle" },
  },
  states: {
    settle: {
      always: [
        { guard: "hasExclusive", target: "exclusive" },
        { guard: "hasShared", target: "shared" },
        { target: "free" },
      ],
    },
    free: {},
    shared: {},
    exclusive: {},
  },
});
