import { Schema } from "effect";
import { defineEvent } from "@atelier/events/schema";
import { Id, Millis } from "../schemas.ts";

export const contextUpdated = defineEvent("context.updated", {
  payload: Schema.Struct({ at: Millis, key: Id, value: Schema.Unknown, updatedBy: Id }),
  doc: "A shared-context key was set (value, updatedBy, updatedAt = at).",
});
export const contextDeleted = defineEvent("context.deleted", {
  payload: Schema.Struct({ at: Millis, key: Id, deletedBy: Id }),
  doc: "A shared-context key was removed.",
});

export const contextEvents = [contextUpdated, contextDeleted] as const;
