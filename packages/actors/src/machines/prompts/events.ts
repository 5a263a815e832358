import { Schema } from "effect";
import { defineEvent } from "@atelier/events/schema";
import { Count, Generation, Id, Millis, Money, Positive, Priority } from "../schemas.ts";

export const promptEnqueued = defineEvent("prompt.enqueued", {
  payload: Schema.Struct({
    at: Millis,
    agent: Id,
    promptId: Id,
    /** The client's idempotency key: a retried enqueue with the same key is not queued twice. */
    clientRequestId: Schema.NullOr(Id),
    text: Schema.String,
    /** Higher runs sooner; equal priorities run in enqueue order. */
    priority: Priority,
    author: Schema.String,
  }),
  doc: "A user message was queued for the agent (state queued).",
});
export const promptStarted = defineEvent("prompt.started", {
  payload: Schema.Struct({ at: Millis, agent: Id, promptId: Id, attempt: Positive, generation: Generation }),
  doc: "The prompt was dispatched to the runner of `generation`: queued → processing.",
});
export const promptFirstToken = defineEvent("prompt.first_token", {
  payload: Schema.Struct({ at: Millis, agent: Id, promptId: Id, generation: Generation }),
  doc: "The runner of `generation` streamed its first token for the processing prompt; once per attempt.",
});
export const promptRequeued = defineEvent("prompt.requeued", {
  payload: Schema.Struct({
    at: Millis,
    agent: Id,
    promptId: Id,
    reason: Schema.Literals(["runner_disconnected", "agent_failed"]),
  }),
  doc: "The runner went away mid-prompt: processing → queued, ahead of later prompts.",
});
export const promptCompleted = defineEvent("prompt.completed", {
  payload: Schema.Struct({
    at: Millis,
    agent: Id,
    promptId: Id,
    generation: Generation,
    result: Schema.String,
    tokensIn: Count,
    tokensOut: Count,
    cost: Money,
  }),
  doc: "The runner finished the prompt; only the final response is canonical: processing → completed.",
});
export const promptFailed = defineEvent("prompt.failed", {
  payload: Schema.Struct({ at: Millis, agent: Id, promptId: Id, generation: Generation, error: Schema.String }),
  doc: "The runner reported failure: processing → failed.",
});
export const promptCancelled = defineEvent("prompt.cancelled", {
  payload: Schema.Struct({
    at: Millis,
    agent: Id,
    promptId: Id,
    reason: Schema.Literals(["user", "interrupted", "workspace_terminated"]),
  }),
  doc: "Cancelled by a person or interrupted by a newer message: queued|processing → cancelled.",
});

export const promptEvents = [promptEnqueued, promptStarted, promptFirstToken, promptRequeued, promptCompleted, promptFailed, promptCancelled] as const;
