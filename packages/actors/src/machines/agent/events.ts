import { Schema } from "effect";
import { defineEvent } from "@atelier/events/schema";
import { Count, Generation, Id, Millis, Money } from "../schemas.ts";

export const Vendor = Schema.Literals(["claude", "gemini", "kimi", "codex", "custom"]);
export type Vendor = typeof Vendor.Type;
/** What a busy agent is doing (000 §2.1's agent panel). */
export const Activity = Schema.Literals(["analyzing", "editing", "indexing", "waiting"]);
export type Activity = typeof Activity.Type;
/** What a runner's tool did: edited, read or searched files, ran a command, or took a lock. */
export const ToolKind = Schema.Literals(["edit", "read", "run", "search", "lock"]);
export type ToolKind = typeof ToolKind.Type;

export const agentRegistered = defineEvent("agent.registered", {
  payload: Schema.Struct({
    at: Millis,
    agentId: Id,
    vendor: Vendor,
    model: Schema.String,
    focusPrompt: Schema.String,
  }),
  doc: "An agent joined the workspace; it is offline until its runner connects.",
});
export const agentConfigured = defineEvent("agent.configured", {
  payload: Schema.Struct({ at: Millis, model: Schema.optional(Schema.String), focusPrompt: Schema.optional(Schema.String) }),
  doc: "The agent's model or focus prompt changed.",
});
export const agentConnected = defineEvent("agent.connected", {
  payload: Schema.Struct({ at: Millis, generation: Generation }),
  doc: "A runner connected for the agent with a new generation: offline → idle.",
});
export const agentDisconnected = defineEvent("agent.disconnected", {
  payload: Schema.Struct({
    at: Millis,
    generation: Generation,
    reason: Schema.Literals(["closed", "replaced", "heartbeat_timeout", "workspace_stopped"]),
  }),
  doc: "The runner of that generation went away: idle|busy|error → offline.",
});
export const agentWorkStarted = defineEvent("agent.work_started", {
  payload: Schema.Struct({ at: Millis, promptId: Id }),
  doc: "A prompt was dispatched to the agent: idle → busy.analyzing.",
});
export const agentActivityChanged = defineEvent("agent.activity_changed", {
  payload: Schema.Struct({ at: Millis, activity: Activity }),
  doc: "The runner reported what the busy agent is doing: busy.* → busy.<activity>.",
});
export const agentToolCalled = defineEvent("agent.tool_called", {
  payload: Schema.Struct({
    at: Millis,
    promptId: Id,
    generation: Generation,
    kind: ToolKind,
    /** The file the tool touched; for an `edit`, a file the prompt changed (an artifact). */
    file: Schema.optional(Id),
    summary: Schema.String,
  }),
  doc: "The runner of `generation` used a tool for the prompt in flight; the tool-call count grows (busy only).",
});
export const agentWorkFinished = defineEvent("agent.work_finished", {
  payload: Schema.Struct({
    at: Millis,
    promptId: Id,
    outcome: Schema.Literals(["completed", "failed", "cancelled"]),
    tokensIn: Count,
    tokensOut: Count,
    cost: Money,
  }),
  doc: "The agent finished its prompt; token and cost totals grow: busy → idle.",
});
export const agentFailed = defineEvent("agent.failed", {
  payload: Schema.Struct({ at: Millis, message: Schema.String }),
  doc: "The agent hit an unrecoverable error: idle|busy → error.",
});
export const agentRestarted = defineEvent("agent.restarted", {
  payload: Schema.Struct({ at: Millis }),
  doc: "The agent was reset after an error: error → idle (runner connected) or offline.",
});

export const agentEvents = [
  agentRegistered,
  agentConfigured,
  agentConnected,
  agentDisconnected,
  agentWorkStarted,
  agentActivityChanged,
  agentToolCalled,
  agentWorkFinished,
  agentFailed,
  agentRestarted,
] as const;
