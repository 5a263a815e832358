/**
 * @atelier/actors (node side): the runtime that persists, replays and schedules the actors, the
 * bus and the coordinator. The pure machines are also at `@atelier/actors/machines`.
 */
export * from "./machines/index.ts";
export { DEFAULT_MAX_QUEUE_DEPTH, openWorkspace, type Workspace, type WorkspaceOptions } from "./runtime/workspace.ts";
export { CommandRejected, type RejectionCode } from "./runtime/errors.ts";
export type { RecoveryReport, Committed } from "./runtime/engine.ts";
export type { RunnerSink, RunnerConnection, PromptResult, ToolCall } from "./runtime/runners.ts";
export type { LockResult, LockInfo, AcquireOptions } from "./runtime/locks.ts";
export type { AgentSpec, EnqueueSpec, TaskSpec } from "./runtime/commands.ts";
export { folderSnapshotStore, type SnapshotStore } from "./runtime/hibernation.ts";
export { Bus, type BusMessage, type Unsubscribe } from "./bus/bus.ts";
export type { AgentCoordinator, Plan, PlanTask } from "./coordinator/coordinator.ts";
