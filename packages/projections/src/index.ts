/**
 * @atelier/projections: SQLite read models that are a pure function of a workspace's log.
 * Open one with `openProjection` (catch-up, then live), rebuild or check it against the log,
 * and answer the gateway's queries from it.
 */
export { openProjection, Projection, ProjectionUnavailable, type LiveRebuild, type ProjectionOptions, type RebuildReason } from "./engine/projection.ts";
export { ProjectionGap } from "./engine/applier.ts";
export { readCheckpoint, type Checkpoint } from "./engine/checkpoint.ts";
export { rebuildProjection, type RebuildResult } from "./rebuild/rebuild.ts";
export { checkProjection, type CheckOptions, type CheckResult } from "./rebuild/check.ts";
export type { BuildOptions, Progress } from "./rebuild/build.ts";
export { canonicalDump, tableDigests } from "./rebuild/dump.ts";
export { projectionPath } from "./rebuild/files.ts";
export { readWorkspaceLog, type LiveLogSource, type LogSource } from "./source/log-source.ts";
export { defineProjectors, ignored, UnknownProjectedType, type Projector, type ProjectorMap, type Registry } from "./projectors/registry.ts";
export { stmt, type SqlValue, type Stmt } from "./projectors/sql.ts";
export { atelierProjectors } from "./projectors/atelier.ts";
export { MIGRATIONS, migrate, type Migration } from "./schema/migrations.ts";
export { isDamaged, openDb, PAGE_SIZE, type Db } from "./db/open.ts";
export { runCheckCommand, runRebuildCommand, EXIT } from "./cli/commands.ts";
export type { Output } from "./cli/progress.ts";
export * from "./queries/index.ts";
