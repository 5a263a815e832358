import type { Schema } from "effect";

/** Turns a payload written by version `from` into the shape of version `from + 1`. */
export type Upcaster = (payload: unknown) => unknown;

/**
 * One event type: its name, the current version of its payload, the payload's schema, and the
 * upcasters that lift stored payloads of older versions (key = the version they start from).
 */
export interface EventDefinition<T extends string = string, S extends Schema.Top = Schema.Top> {
  readonly type: T;
  readonly version: number;
  readonly payload: S;
  readonly upcasters: Readonly<Record<number, Upcaster>>;
  /** One line on what the event means, shown by `atelier events`. */
  readonly doc: string;
}

export interface DefineEventSpec<S extends Schema.Top> {
  readonly payload: S;
  readonly version?: number;
  readonly upcasters?: Readonly<Record<number, Upcaster>>;
  readonly doc?: string;
}

/** Declares an event type. The definition lives beside the machine that accepts it. */
export const defineEvent = <const T extends string, S extends Schema.Top>(
  type: T,
  spec: DefineEventSpec<S>,
): EventDefinition<T, S> => {
  const version = spec.version ?? 1;
  const upcasters = spec.upcasters ?? {};
  for (let v = 1; v < version; v++) {
    if (!upcasters[v]) throw new Error(`event ${type} v${version} lacks an upcaster from v${v}`);
  }
  return { type, version, payload: spec.payload, upcasters, doc: spec.doc ?? "" };
};

/** The payload type of a definition. */
export type PayloadOf<D> = D extends EventDefinition<string, infer S> ? S["Type"] : never;

/** A union of `{ type, payload }` for a tuple of definitions. */
export type EventUnion<Defs extends readonly EventDefinition[]> = {
  [K in keyof Defs]: Defs[K] extends EventDefinition<infer T, infer S> ? { type: T; payload: S["Type"] } : never;
}[number];
