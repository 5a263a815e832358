import { entities, covers, grantableNow, holderOf, type LockContext, type LockMode } from "../machines/index.ts";
import { stateString } from "../machines/world.ts";
import type { Engine } from "./engine.ts";
import { CommandRejected } from "./errors.ts";
import { grantLock, touch } from "./reactions.ts";

export type LockResult =
  | { readonly granted: true; readonly mode: LockMode; readonly token: number; readonly expiresAt: number }
  | { readonly granted: false; readonly reason: "busy" | "gave_up" | "holder_offline" };

export interface AcquireOptions {
  /** Queue (FIFO) and resolve when granted, instead of answering false at once. */
  readonly wait?: boolean;
  /** With `wait`: give up after this long (the wait is withdrawn, resolving false). */
  readonly timeoutMs?: number;
  /** Lease length; the lock is released by the runtime when it passes without renewal. */
  readonly leaseMs?: number;
}

export interface LockInfo {
  readonly locked: boolean;
  readonly by?: string;
  readonly type?: LockMode;
  readonly holders: readonly { agent: string; mode: LockMode; token: number; expiresAt: number }[];
  readonly waiters: readonly { agent: string; mode: LockMode }[];
  readonly token: number;
}

const key = (path: string, agent: string) => `${path}\u0000${agent}`;
const holderIn = (ctx: LockContext | undefined, agent: string) => (ctx ? holderOf(ctx, agent) : undefined);

/** File locks over the lock actors: acquire (now or waiting), release, renew, query, fencing check. */
export const lockCommands = (engine: Engine, defaults: { leaseMs: number; touchGranularityMs: number }) => {
  const waiting = new Map<string, (r: LockResult) => void>();
  engine.onCommitted(({ effects }) => {
    for (const fx of effects) {
      const k = key(fx.path as string, fx.agent as string);
      const resolve = waiting.get(k);
      if (!resolve) continue;
      if (fx.type === "lock.granted") {
        waiting.delete(k);
        resolve({ granted: true, mode: fx.mode as LockMode, token: fx.token as number, expiresAt: fx.expiresAt as number });
      } else if (fx.type === "lock.wait_ended") {
        waiting.delete(k);
        resolve({ granted: false, reason: "holder_offline" });
      }
    }
  });

  const setWaitingActivity = (tx: Parameters<Parameters<Engine["run"]>[0]>[0], agent: string) => {
    const a = tx.get(entities.agent(agent));
    if (a && stateString(a.value).startsWith("busy")) {
      tx.tryApply(entities.agent(agent), { type: "agent.activity_changed", payload: { at: tx.now, activity: "waiting" } }, agent);
    }
  };

  const acquire = async (path: string, agent: string, mode: LockMode, options: AcquireOptions = {}): Promise<LockResult> => {
    const leaseMs = options.leaseMs ?? defaults.leaseMs;
    const { value } = await engine.run((tx): LockResult | "queued" => {
      const entity = entities.lock(path);
      const ctx = tx.get(entity)?.context as LockContext | undefined;
      const held = ctx && holderOf(ctx, agent);
      if (held && covers(held, mode)) return { granted: true, mode: held.mode, token: held.token, expiresAt: held.expiresAt };
      touch(tx, "lock", defaults.touchGranularityMs);
      if (!ctx || grantableNow(ctx, agent, mode)) {
        grantLock(tx, path, agent, mode, leaseMs);
        const h = holderOf(tx.get(entity)!.context as LockContext, agent)!;
        return { granted: true, mode, token: h.token, expiresAt: h.expiresAt };
      }
      if (!options.wait) return { granted: false, reason: "busy" };
      if (ctx.waiters.some((w) => w.agent === agent)) throw new CommandRejected("refused", `${agent} already waits for ${path}`, entity);
      tx.apply(entity, { type: "lock.queued", payload: { at: tx.now, path, agent, mode, leaseMs } }, agent);
      setWaitingActivity(tx, agent);
      return "queued";
    });
    if (value !== "queued") return value;
    return new Promise<LockResult>((resolve) => {
      // The outcome may already have committed (a release in the same commit group): look first.
      const ctx = engine.committed.get(entities.lock(path))?.context as LockContext | undefined;
      const h = holderIn(ctx, agent);
      if (h && covers(h, mode)) return resolve({ granted: true, mode: h.mode, token: h.token, expiresAt: h.expiresAt });
      if (!ctx?.waiters.some((w) => w.agent === agent)) return resolve({ granted: false, reason: "holder_offline" });
      waiting.set(key(path, agent), resolve);
      if (options.timeoutMs !== undefined) {
        engine.options.clock.setTimer(options.timeoutMs, () => {
          if (waiting.get(key(path, agent)) !== resolve) return;
          void engine
            .run((tx) => tx.tryApply(entities.lock(path), { type: "lock.wait_cancelled", payload: { at: tx.now, path, agent, reason: "gave_up" } }, agent))
            .then(({ envelopes }) => {
              if (envelopes.length > 0 && waiting.get(key(path, agent)) === resolve) {
                waiting.delete(key(path, agent));
                resolve({ granted: false, reason: "gave_up" });
              }
            }, () => undefined);
        });
      }
    });
  };

  const release = async (path: string, agent: string): Promise<void> => {
    await engine.run((tx) => {
      const entity = entities.lock(path);
      const h = holderIn(tx.get(entity)?.context as LockContext | undefined, agent);
      if (!h) throw new CommandRejected("not_holder", `${agent} does not hold ${path}`, entity);
      tx.apply(entity, { type: "lock.released", payload: { at: tx.now, path, agent, token: h.token, reason: "released" } }, agent);
    });
  };

  const renew = async (path: string, agent: string, leaseMs = defaults.leaseMs): Promise<number> => {
    const { value } = await engine.run((tx) => {
      const entity = entities.lock(path);
      const h = holderIn(tx.get(entity)?.context as LockContext | undefined, agent);
      if (!h) throw new CommandRejected("not_holder", `${agent} does not hold ${path}`, entity);
      const expiresAt = tx.now + leaseMs;
      tx.apply(entity, { type: "lock.renewed", payload: { at: tx.now, path, agent, token: h.token, expiresAt } }, agent);
      return expiresAt;
    });
    return value;
  };

  /** The lock as agents see it (000 §3.6 query): committed state only. */
  const query = (path: string): LockInfo => {
    const snap = engine.committed.get(entities.lock(path));
    const ctx = snap?.context as LockContext | undefined;
    const holders = ctx?.holders ?? [];
    const first = holders[0];
    return {
      locked: holders.length > 0,
      ...(first ? { by: first.agent, type: first.mode } : {}),
      holders: holders.map((h) => ({ ...h })),
      waiters: (ctx?.waiters ?? []).map((w) => ({ agent: w.agent, mode: w.mode })),
      token: ctx?.lastToken ?? 0,
    };
  };

  /**
   * Fencing (I10): a write to `path` is allowed only with the token of a current grant held by
   * the writer: durable (committed) and not being given up (its release or expiry may still be
   * on its way to disk, in the working state). A token from an expired or released grant is stale.
   */
  const checkFence = (path: string, agent: string, token: number): boolean => {
    const entity = entities.lock(path);
    const holds = (snapshots: ReadonlyMap<string, { context: unknown }>) => holderIn(snapshots.get(entity)?.context as LockContext | undefined, agent)?.token === token;
    return holds(engine.committed) && holds(engine.working);
  };

  return { acquire, release, renew, query, checkFence };
};

export type LockCommands = ReturnType<typeof lockCommands>;
