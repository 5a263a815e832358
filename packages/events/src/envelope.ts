import { Schema } from "effect";

const PositiveInt = Schema.Number.check(Schema.isInt(), Schema.isGreaterThanOrEqualTo(1));

/** What a writer supplies; the log adds seq, ts, ws, id, v and hash. */
export const AppendInput = Schema.Struct({
  type: Schema.String.check(Schema.isMinLength(1)),
  entity: Schema.String.check(Schema.isMinLength(1)),
  agent: Schema.optional(Schema.String),
  payload: Schema.Unknown,
  from: Schema.optional(Schema.String),
  to: Schema.optional(Schema.String),
});
export interface AppendInput {
  readonly type: string;
  readonly entity: string;
  readonly agent?: string | undefined;
  readonly payload: unknown;
  readonly from?: string | undefined;
  readonly to?: string | undefined;
}

/** One line of the log, as DESIGN.md's envelope. */
export const Envelope = Schema.Struct({
  seq: PositiveInt,
  ts: Schema.String,
  ws: Schema.String,
  id: Schema.String,
  entity: Schema.String,
  type: Schema.String,
  v: Schema.optional(PositiveInt),
  agent: Schema.optional(Schema.String),
  payload: Schema.Unknown,
  from: Schema.optional(Schema.String),
  to: Schema.optional(Schema.String),
  hash: Schema.String.check(Schema.isPattern(/^[0-9a-f]{64}$/)),
});
export interface Envelope<P = unknown> {
  readonly seq: number;
  readonly ts: string;
  readonly ws: string;
  readonly id: string;
  readonly entity: string;
  readonly type: string;
  readonly v?: number;
  readonly agent?: string;
  readonly payload: P;
  readonly from?: string;
  readonly to?: string;
  readonly hash: string;
}

/** The hash that precedes seq 1. */
export const GENESIS_HASH = "";

/** ISO-8601 UTC with milliseconds, as the envelope's `ts`. */
export const isoTimestamp = (epochMs: number): string => new Date(epochMs).toISOString();
