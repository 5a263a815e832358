import { Schema } from "effect";
import { defineEvent } from "@atelier/events/schema";
import { Id, Millis, Positive } from "../schemas.ts";

/** Timeouts of a workspace, fixed at creation (all milliseconds). */
export const WorkspaceConfig = Schema.Struct({
  /** active → idle after this long without activity. */
  idleTimeoutMs: Positive,
  /** idle → hibernating after this long idle. */
  hibernateAfterMs: Positive,
  /** Renewable lifetime (8 h by default); expiry hibernates. */
  lifetimeMs: Positive,
  /** Hard maximum from creation (24 h by default); reaching it terminates. */
  maxLifetimeMs: Positive,
});
export type WorkspaceConfig = typeof WorkspaceConfig.Type;

const At = { at: Millis };

export const workspaceCreated = defineEvent("workspace.created", {
  payload: Schema.Struct({ ...At, workspaceId: Id, name: Schema.String, config: WorkspaceConfig }),
  doc: "A workspace exists and is being provisioned (state creating).",
});
export const workspaceActivated = defineEvent("workspace.activated", {
  payload: Schema.Struct(At),
  doc: "Provisioning finished; the workspace is active and its lifetime starts.",
});
export const workspaceTouched = defineEvent("workspace.touched", {
  payload: Schema.Struct({ ...At, reason: Schema.Literals(["prompt", "runner", "lock", "user"]) }),
  doc: "User or tool activity; pushes the idle deadline back and wakes an idle workspace.",
});
export const workspaceIdleTimeout = defineEvent("workspace.idle_timeout", {
  payload: Schema.Struct(At),
  doc: "The idle timer fired: active → idle.",
});
export const workspaceHibernateTimeout = defineEvent("workspace.hibernate_timeout", {
  payload: Schema.Struct(At),
  doc: "The hibernation timer fired while idle: idle → hibernating.",
});
export const workspaceLifetimeExpired = defineEvent("workspace.lifetime_expired", {
  payload: Schema.Struct(At),
  doc: "The renewable lifetime ran out without renewal: active|idle → hibernating.",
});
export const workspaceMaxLifetimeReached = defineEvent("workspace.max_lifetime_reached", {
  payload: Schema.Struct(At),
  doc: "The hard maximum lifetime was reached: active|idle → terminating.",
});
export const workspaceRenewed = defineEvent("workspace.renewed", {
  payload: Schema.Struct(At),
  doc: "The lifetime was renewed (capped by the maximum lifetime).",
});
export const workspaceHibernateRequested = defineEvent("workspace.hibernate_requested", {
  payload: Schema.Struct({ ...At, by: Schema.String }),
  doc: "A person asked to hibernate: active|idle → hibernating.",
});
export const workspaceHibernated = defineEvent("workspace.hibernated", {
  payload: Schema.Struct({ ...At, snapshotRef: Schema.String, seq: Millis }),
  doc: "The snapshot reached the object store and local state was wiped: hibernating → hibernated.",
});
export const workspaceResumeRequested = defineEvent("workspace.resume_requested", {
  payload: Schema.Struct({ ...At, reason: Schema.Literals(["user", "prompt"]) }),
  doc: "Wake-up asked for (by a person, or by a prompt sent while hibernated): hibernated → resuming.",
});
export const workspaceResumed = defineEvent("workspace.resumed", {
  payload: Schema.Struct({ ...At, snapshotRef: Schema.String }),
  doc: "State was rehydrated from the archived snapshot: resuming → active, with a new lifetime.",
});
export const workspaceTerminateRequested = defineEvent("workspace.terminate_requested", {
  payload: Schema.Struct({ ...At, by: Schema.String }),
  doc: "A person asked to terminate: active|idle → terminating.",
});
export const workspaceTerminated = defineEvent("workspace.terminated", {
  payload: Schema.Struct(At),
  doc: "Teardown finished: terminating → terminated (final).",
});
export const workspaceFailed = defineEvent("workspace.failed", {
  payload: Schema.Struct({ ...At, message: Schema.String }),
  doc: "An unrecoverable failure (e.g. hibernation upload failed): any live state → error.",
});
export const workspaceRestarted = defineEvent("workspace.restarted", {
  payload: Schema.Struct({ ...At, by: Schema.String }),
  doc: "Manual restart after an error: error → active.",
});

export const workspaceEvents = [
  workspaceCreated,
  workspaceActivated,
  workspaceTouched,
  workspaceIdleTimeout,
  workspaceHibernateTimeout,
  workspaceLifetimeExpired,
  workspaceMaxLifetimeReached,
  workspaceRenewed,
  workspaceHibernateRequested,
  workspaceHibernated,
  workspaceResumeRequested,
  workspaceResumed,
  workspaceTerminateRequested,
  workspaceTerminated,
  workspaceFailed,
  workspaceRestarted,
] as const;
