import type { AtelierEvent } from "./events.ts";
import type { LockContext } from "./lock/machine.ts";
import type { WorkspaceContext } from "./workspace/machine.ts";
import { parseEntity } from "./events.ts";
import { snapshotsOf, stateString, type ActorSnapshot, type WorldState } from "./world.ts";

/**
 * A deadline an actor is waiting on. The runtime arms one Clock timer per spec and, when it
 * fires, appends `event(now)`; the machine's guard re-checks the deadline, so a stale timer is
 * refused and writes nothing.
 */
export interface TimerSpec {
  /** Stable identity, so re-arming after a transition or a recovery does not duplicate timers. */
  readonly key: string;
  readonly entity: string;
  readonly at: number;
  readonly event: (now: number) => AtelierEvent;
}

const workspaceTimers = (entity: string, state: string, ctx: WorkspaceContext): TimerSpec[] => {
  const specs: TimerSpec[] = [];
  const add = (name: string, at: number | null, type: "workspace.idle_timeout" | "workspace.hibernate_timeout" | "workspace.lifetime_expired" | "workspace.max_lifetime_reached") => {
    if (at !== null) specs.push({ key: `${entity}#${name}@${at}`, entity, at, event: (now) => ({ type, payload: { at: now } }) });
  };
  if (state === "active") add("idle", ctx.idleDeadline, "workspace.idle_timeout");
  if (state === "idle") add("hibernate", ctx.hibernateDeadline, "workspace.hibernate_timeout");
  add("lifetime", ctx.lifetimeDeadline, "workspace.lifetime_expired");
  add("max", ctx.maxDeadline, "workspace.max_lifetime_reached");
  return specs;
};

const lockTimers = (entity: string, ctx: LockContext): TimerSpec[] =>
  ctx.holders.map((h) => ({
    key: `${entity}#lease:${h.agent}:${h.token}@${h.expiresAt}`,
    entity,
    at: h.expiresAt,
    event: (now) => ({ type: "lock.lease_expired", payload: { at: now, path: ctx.path, agent: h.agent, token: h.token } }),
  }));

/** Every deadline of one actor, derived from its snapshot alone (so recovery re-arms the same ones). */
export const timersOf = (entity: string, snapshot: ActorSnapshot): TimerSpec[] => {
  const { kind } = parseEntity(entity);
  if (kind === "workspace") return workspaceTimers(entity, stateString(snapshot.value), snapshot.context as WorkspaceContext);
  if (kind === "lock") return lockTimers(entity, snapshot.context as LockContext);
  return [];
};

/**
 * Every deadline a world state holds, as `{ key, entity }` like the engine's armed timers: what a
 * running workspace arms, and what its wake re-arms after a hibernation (which arms none).
 */
export const deadlinesOf = (world: WorldState): { key: string; entity: string }[] =>
  [...snapshotsOf(world)].flatMap(([entity, snap]) => timersOf(entity, snap).map((t) => ({ key: t.key, entity })));
