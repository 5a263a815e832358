import { initialTransition, type AnyStateMachine, type StateValue } from "xstate";
import { pureTransition } from "./transition.ts";
import { parseEntity, type AtelierEvent } from "./events.ts";
import { agentMachine } from "./agent/machine.ts";
import { sharedContextMachine } from "./context/machine.ts";
import { lockMachine } from "./lock/machine.ts";
import { promptQueueMachine } from "./prompts/machine.ts";
import { taskQueueMachine } from "./tasks/machine.ts";
import { workspaceMachine } from "./workspace/machine.ts";

/** Any snapshot of one of our machines (the runtime treats them uniformly). */
export interface ActorSnapshot {
  readonly value: StateValue;
  readonly context: unknown;
}

/** A serialisable actor: state as a dotted string ("busy.editing") and its context. */
export interface PlainActor {
  readonly state: string;
  readonly context: unknown;
}

/** Every actor of a workspace at a seq; what snapshots store and what replay returns. */
export interface WorldState {
  readonly seq: number;
  readonly actors: Readonly<Record<string, PlainActor>>;
}

export const emptyWorld = (): WorldState => ({ seq: 0, actors: {} });

/** The machine (and its input) that owns an entity, or undefined for entities that are not actors (bus channels). */
export const machineFor = (entity: string): { logic: AnyStateMachine; input: unknown } | undefined => {
  const { kind, key } = parseEntity(entity);
  switch (kind) {
    case "workspace":
      return { logic: workspaceMachine, input: undefined };
    case "agent":
      return { logic: agentMachine, input: { agentId: key } };
    case "lock":
      return { logic: lockMachine, input: { path: key } };
    case "prompts":
      return { logic: promptQueueMachine, input: { agent: key } };
    case "tasks":
      return { logic: taskQueueMachine, input: undefined };
    case "context":
      return { logic: sharedContextMachine, input: undefined };
    default:
      return undefined;
  }
};

export const stateString = (value: StateValue): string => {
  if (typeof value === "string") return value;
  const [key, child] = Object.entries(value)[0] ?? ["", ""];
  return child === undefined || (typeof child === "object" && Object.keys(child).length === 0) ? key : `${key}.${stateString(child as StateValue)}`;
};

const stateValue = (state: string): StateValue => {
  const [head, ...rest] = state.split(".");
  return rest.length === 0 ? head! : { [head!]: stateValue(rest.join(".")) };
};

export const toPlain = (snapshot: ActorSnapshot): PlainActor => ({ state: stateString(snapshot.value), context: snapshot.context });

/** Rebuilds a machine snapshot from its plain form (snapshot files, the browser). */
export const fromPlain = (entity: string, plain: PlainActor): ActorSnapshot => {
  const m = machineFor(entity);
  if (!m) throw new Error(`entity ${entity} is not an actor`);
  return m.logic.resolveState({ value: stateValue(plain.state), context: plain.context as never }) as ActorSnapshot;
};

/** The snapshot of an entity that has seen no event yet. */
export const initialSnapshot = (entity: string): ActorSnapshot => {
  const m = machineFor(entity);
  if (!m) throw new Error(`entity ${entity} is not an actor`);
  return initialTransition(m.logic, m.input)[0] as ActorSnapshot;
};

/** What one event did to one actor. `accepted` is false when the machine ignored it. */
export interface Step {
  readonly accepted: boolean;
  readonly before: ActorSnapshot;
  readonly after: ActorSnapshot;
  readonly from: string;
  readonly to: string;
  /** Effects emitted by the transition (data; the runtime runs them, replay drops them). */
  readonly effects: readonly { type: string }[];
}

/**
 * Feeds one event to the actor that owns `entity`. Pure: XState's `transition()` (see
 * pureTransition for why the scope is cached); an event the
 * machine does not accept returns the very same snapshot, which is how refusal is detected.
 */
export const step = (entity: string, before: ActorSnapshot | undefined, event: AtelierEvent): Step => {
  const m = machineFor(entity);
  if (!m) throw new Error(`entity ${entity} is not an actor`);
  const prev = before ?? (initialTransition(m.logic, m.input)[0] as ActorSnapshot);
  const [next, actions] = pureTransition(m.logic, prev, event) as [ActorSnapshot, { type: string; params?: unknown }[]];
  const effects = actions.length === 0 ? actions : actions.filter((a) => a.type === "xstate.emit").map((a) => (a.params as { event: { type: string } }).event);
  return { accepted: next !== prev, before: prev, after: next, from: stateString(prev.value), to: stateString(next.value), effects };
};

/** Replay met an event its machine refuses. */
export class ReplayDiverged extends Error {
  readonly _tag = "ReplayDiverged";
  constructor(
    readonly seq: number,
    readonly entity: string,
    readonly type: string,
    readonly state: string,
  ) {
    super(`replay diverged at seq ${seq}: ${entity} in state ${state} refuses ${type}`);
  }
}

/** The minimal envelope shape replay needs, so the browser can feed parsed JSONL lines. */
export interface ReplayableEnvelope {
  readonly seq: number;
  readonly entity: string;
  readonly type: string;
  readonly payload: unknown;
}

/**
 * Folds logged events into `actors` (live snapshots by entity) with effects off, returning the
 * last seq seen. The runtime recovers with it; `replay` wraps it for plain states.
 */
export const foldInto = (actors: Map<string, ActorSnapshot>, envelopes: Iterable<ReplayableEnvelope>, afterSeq = 0): number => {
  let seq = afterSeq;
  for (const env of envelopes) {
    if (env.seq <= seq) continue;
    seq = env.seq;
    if (!machineFor(env.entity)) continue;
    const s = step(env.entity, actors.get(env.entity), { type: env.type, payload: env.payload } as AtelierEvent);
    // A logged event was accepted when it was written; refusing it now means the log and the
    // machines disagree (a bug or a version skew), which must not pass silently.
    if (!s.accepted) throw new ReplayDiverged(env.seq, env.entity, env.type, s.from);
    actors.set(env.entity, s.after);
  }
  return seq;
};

/** Live snapshots of a plain world. */
export const snapshotsOf = (world: WorldState): Map<string, ActorSnapshot> =>
  new Map(Object.entries(world.actors).map(([entity, plain]) => [entity, fromPlain(entity, plain)]));

/** Plain world of live snapshots, entities sorted so equal worlds serialise to equal bytes. */
export const worldOf = (seq: number, actors: ReadonlyMap<string, ActorSnapshot>): WorldState => ({
  seq,
  actors: Object.fromEntries([...actors.keys()].sort().map((entity) => [entity, toPlain(actors.get(entity)!)])),
});

/**
 * Folds logged events through the machines with effects off, from `from` (a snapshot) or from
 * nothing. The result equals the live runtime's state at the last seq (invariant I15); the web
 * viewer uses it to replay a timeline in the browser.
 */
export const replay = (envelopes: Iterable<ReplayableEnvelope>, from: WorldState = emptyWorld()): WorldState => {
  const actors = snapshotsOf(from);
  const seq = foldInto(actors, envelopes, from.seq);
  return worldOf(seq, actors);
};
