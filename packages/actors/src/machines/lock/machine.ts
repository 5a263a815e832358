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

/** The lock's state, derived from its holders. */
export const lockState = (ctx: LockContext): "free" | "shared" | "exclusive" =>
  ctx.holders.length === 0 ? "free" : ctx.holders.some((h) => h.mode === "exclusive") ? "exclusive" : "shared";

/**
 * The whole transition function of a lock as plain data in, data out: the next context, or
 * undefined when the event is refused. The machine's guards and assigns both use it, so the
 * rules live in one place and the target state is known before the transition is taken.
 */
export const reduceLock = (ctx: LockContext, event: LockEvent): LockContext | undefined => {
  const p = event.payload;
  if (p.path !== ctx.path) return undefined;
  switch (event.type) {
    case "lock.acquired": {
      const { agent, mode, token, expiresAt } = event.payload;
      if (token !== ctx.lastToken + 1 || covers(holderOf(ctx, agent), mode) || !grantableNow(ctx, agent, mode)) return undefined;
      return {
        ...ctx,
        lastToken: token,
        holders: [...others(ctx, agent), { agent, mode, token, expiresAt }],
        waiters: ctx.waiters.length === 0 ? ctx.waiters : ctx.waiters.filter((w) => w.agent !== agent),
      };
    }
    case "lock.queued": {
      const { agent, mode, leaseMs, at } = event.payload;
      if (covers(holderOf(ctx, agent), mode) || isWaiting(ctx, agent) || grantableNow(ctx, agent, mode)) return undefined;
      return { ...ctx, waiters: [...ctx.waiters, { agent, mode, leaseMs, since: at }] };
    }
    case "lock.renewed": {
      const { agent, token, expiresAt } = event.payload;
      if (!holdsToken(ctx, agent, token)) return undefined;
      return { ...ctx, holders: ctx.holders.map((h) => (h.agent === agent ? { ...h, expiresAt } : h)) };
    }
    case "lock.released":
      return holdsToken(ctx, p.agent, event.payload.token) ? { ...ctx, ...dropHolder(ctx, p.agent) } : undefined;
    case "lock.lease_expired": {
      const { agent, token, at } = event.payload;
      return holdsToken(ctx, agent, token) && at >= holderOf(ctx, agent)!.expiresAt ? { ...ctx, ...dropHolder(ctx, agent) } : undefined;
    }
    case "lock.wait_cancelled":
      return isWaiting(ctx, p.agent) ? { ...ctx, waiters: ctx.waiters.filter((w) => w.agent !== p.agent) } : undefined;
  }
};

/**
 * reduceLock for the machine's guards and its assign, computed once per transition: each
 * candidate target's guard and then the assign ask for the same (context, event).
 */
let last: { ctx: LockContext; event: LockEvent; next: LockContext | undefined } | undefined;
const reduceOnce = (ctx: LockContext, event: LockEvent): LockContext | undefined => {
  if (last?.ctx !== ctx || last.event !== event) last = { ctx, event, next: reduceLock(ctx, event) };
  return last.next;
};

/** Events after which waiters may have become grantable: they announce the grants. */
const handlers = (frees: boolean) =>
  (["free", "shared", "exclusive"] as const).map((state) => ({
    guard: ({ context, event }: { context: LockContext; event: LockEvent }) => {
      const next = reduceOnce(context, event);
      return next !== undefined && lockState(next) === state;
    },
    target: `.${state}`,
    actions: frees ? (["apply", "announceGrants"] as const) : (["apply"] as const),
  }));
const takes = handlers(false);
const frees = handlers(true);

/**
 * One file lock: free | shared | exclusive (derived from the holders). FIFO waiters; leases are
 * deadlines in context, and the runtime's timer appends `lock.lease_expired` when one passes.
 */
export const lockMachine = setup({
  types: {
    context: {} as LockContext,
    events: {} as LockEvent,
    input: {} as { path: string },
    emitted: {} as LockGrantsEffect,
  },
  actions: {
    apply: assign(({ context, event }) => reduceOnce(context, event) ?? {}),
    announceGrants: emit(({ context }) => ({ type: "lock.grants" as const, path: context.path, grants: nextGrants(context) })),
  },
}).createMachine({
  id: "lock",
  context: ({ input }) => initialLockContext(input.path),
  initial: "free",
  on: {
    "lock.acquired": takes,
    "lock.queued": takes,
    "lock.renewed": takes,
    "lock.released": frees,
    "lock.lease_expired": frees,
    "lock.wait_cancelled": frees,
  },
  states: { free: {}, shared: {}, exclusive: {} },
});
