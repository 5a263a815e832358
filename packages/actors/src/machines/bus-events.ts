import { Schema } from "effect";
import { defineEvent } from "@atelier/events/schema";
import { Id, Millis, Positive } from "./schemas.ts";

/** Durable channels of 001 and their default TTLs; any other durable channel defaults to 300 s. */
export const DURABLE_CHANNEL_TTL_MS = {
  state: 60_000,
  file_conflict: 300_000,
  task_broadcast: 600_000,
} as const;
export const DEFAULT_CHANNEL_TTL_MS = 300_000;
/** 001's heartbeat TTL: an agent silent this long is marked offline. */
export const HEARTBEAT_TTL_MS = 30_000;

export const busPublished = defineEvent("bus.published", {
  payload: Schema.Struct({
    at: Millis,
    channel: Id,
    messageId: Id,
    sender: Id,
    body: Schema.Unknown,
    /** Not delivered to subscribers once `at + ttlMs` has passed. */
    ttlMs: Positive,
  }),
  doc: "A message on a durable bus channel (entity channel:<name>); delivered after it is durable.",
});

export const busEvents = [busPublished] as const;
