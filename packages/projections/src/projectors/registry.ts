import type { Envelope, EventCatalogue, EventDefinition, EventUnion } from "@atelier/events";
import type { Stmt } from "./sql.ts";

/** A pure function from one event to the statements that apply it. No clock, no I/O. */
export type Projector<P = unknown> = (event: Envelope<P>) => readonly Stmt[];

/** The explicit "this event changes no table" marker (every event still gets its timeline row). */
export const ignored = Symbol("ignored");
export type Ignored = typeof ignored;

type DefsOf<C> = C extends EventCatalogue<infer Defs> ? Defs : never;
type UnionOf<C> = EventUnion<DefsOf<C>>;
export type EventTypeOf<C> = UnionOf<C>["type"];
export type PayloadOf<C, T> = Extract<UnionOf<C>, { type: T }>["payload"];

/**
 * One entry per event type of the catalogue: leaving a type out, or naming one the catalogue
 * does not define, is a compile-time error.
 */
export type ProjectorMap<C extends EventCatalogue> = {
  readonly [T in EventTypeOf<C>]: Projector<PayloadOf<C, T>> | Ignored;
};

/** What the engine runs: a versioned, total mapping from event to statements. */
export interface Registry {
  /** Stored beside the checkpoint; a different value makes the projection rebuild itself. */
  readonly version: string;
  project(event: Envelope): readonly Stmt[];
}

export class UnknownProjectedType extends Error {
  constructor(readonly type: string, readonly seq: number) {
    super(`no projector for event type ${type} (seq ${seq}); the log was written by a newer build`);
  }
}

/**
 * Builds the registry; `version` names the projector logic (bump it whenever a projector's output
 * changes). The timeline row of every event is the engine's, not a projector's.
 */
export const defineProjectors = <C extends EventCatalogue<readonly EventDefinition[]>>(
  catalogue: C,
  version: string,
  projectors: ProjectorMap<C>,
): Registry => {
  const byType = new Map<string, Projector | Ignored>();
  for (const type of catalogue.types) byType.set(type, (projectors as Record<string, Projector | Ignored>)[type]!);
  return {
    version,
    project(event) {
      const projector = byType.get(event.type);
      if (projector === undefined) throw new UnknownProjectedType(event.type, event.seq);
      return projector === ignored ? [] : projector(event);
    },
  };
};
