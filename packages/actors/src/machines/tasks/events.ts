import { Schema } from "effect";
import { defineEvent } from "@atelier/events/schema";
import { Id, Millis, Priority } from "../schemas.ts";

export const taskEnqueued = defineEvent("task.enqueued", {
  payload: Schema.Struct({
    at: Millis,
    taskId: Id,
    title: Schema.String,
    /** Higher is claimed sooner; ties in enqueue order. */
    priority: Priority,
    /** Only this agent may claim it, or anyone when null. */
    assignee: Schema.NullOr(Id),
    data: Schema.Unknown,
    by: Schema.String,
  }),
  doc: "A coordinator task was added to the shared priority queue (pending).",
});
export const taskClaimed = defineEvent("task.claimed", {
  payload: Schema.Struct({ at: Millis, taskId: Id, agent: Id }),
  doc: "An agent took the task: pending → claimed.",
});
export const taskReleased = defineEvent("task.released", {
  payload: Schema.Struct({ at: Millis, taskId: Id, agent: Id, reason: Schema.Literals(["gave_up", "agent_offline"]) }),
  doc: "The claimant gave the task back: claimed → pending.",
});
export const taskCompleted = defineEvent("task.completed", {
  payload: Schema.Struct({ at: Millis, taskId: Id, agent: Id, result: Schema.Unknown }),
  doc: "The claimant finished the task: claimed → completed.",
});
export const taskFailed = defineEvent("task.failed", {
  payload: Schema.Struct({ at: Millis, taskId: Id, agent: Id, error: Schema.String }),
  doc: "The claimant could not do the task: claimed → failed.",
});

export const taskEvents = [taskEnqueued, taskClaimed, taskReleased, taskCompleted, taskFailed] as const;
