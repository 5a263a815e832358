import { existsSync } from "node:fs";
import { rename, rm } from "node:fs/promises";
import { fsyncPath } from "../storage/node.ts";
import { basename, dirname, join } from "node:path";
import { Data } from "effect";
import type { Clock } from "../services/clock.ts";
import { ArchiveRefused } from "./errors.ts";
import { workspacePrefix, type WorkspaceLocation } from "./layout.ts";
import type { ArchiveManifest } from "./manifest.ts";
import { objectStoreClient, type ObjectStoreShape } from "./object-store.ts";
import { pruneArchives, type PrunedArchives } from "./prune.ts";
import { copyArchive, latestArchive, restoreVerified } from "./reader.ts";
import type { VerifiedLog } from "../log/verify.ts";
import { writeArchive } from "./writer.ts";

/** Another host claimed the resume of this archive first (I17): the loser must not open it. */
export class WorkspaceClaimed extends Data.TaggedError("WorkspaceClaimed")<{ readonly archiveId: string; readonly holder: string }> {
  override get message(): string {
    return `archive ${this.archiveId} is already being resumed by ${this.holder}`;
  }
}

/** Neither the primary nor the mirror gave a verified archive; nothing was opened. */
export class ResumeFailed extends Data.TaggedError("ResumeFailed")<{ readonly primary: unknown; readonly mirror: unknown }> {
  override get message(): string {
    const say = (e: unknown) => (e instanceof Error ? e.message : String(e));
    return `resume failed: primary: ${say(this.primary)}; mirror: ${say(this.mirror)}`;
  }
}

export type HibernateStep = "archived" | "mirrored" | "wiped" | "pruned";

export interface HibernateOptions {
  /** The workspace folder, closed (no writer) before this is called. */
  readonly workspaceDir: string;
  readonly location: WorkspaceLocation;
  readonly primary: ObjectStoreShape;
  readonly mirror?: ObjectStoreShape;
  readonly clock?: Clock;
  readonly appVersion?: string;
  /** What the workspace's log vouched for when it closed (`EventLog.vouch`): see `WriteArchiveOptions.verified`. */
  readonly verifiedLog?: VerifiedLog | undefined;
  /**
   * After the wipe, remove the workspace's archives older than its newest `keepArchives` from the
   * primary, and from the mirror when this copy reached it (`pruneArchives`). Absent: keep all.
   */
  readonly keepArchives?: number;
  /** Called after each step completes (progress for the CLI; tests crash here). */
  readonly onStep?: (step: HibernateStep) => void | Promise<void>;
}

export interface HibernateResult {
  readonly archiveId: string;
  readonly manifest: ArchiveManifest;
  /** Why the mirror copy failed, when it did: reported, never fatal. */
  readonly mirrorError?: unknown;
  /** Log lines the archive took on `verifiedLog`'s word instead of checking them again. */
  readonly vouched: number;
  /** What the prune removed, per store it ran on. */
  readonly pruned?: { readonly primary?: PrunedArchives; readonly mirror?: PrunedArchives };
  /** Why the prune failed, when it did: reported, never fatal (the next hibernation prunes again). */
  readonly pruneError?: unknown;
}

/**
 * Hibernation of a closed workspace folder: archive it to the primary (the manifest is read
 * back and compared before that counts), copy it to the mirror (a failure there is retried by
 * the store and then reported, it does not stop hibernation), then wipe the folder: renamed
 * aside in one step, then removed. A crash at any point leaves the folder intact or a complete,
 * verified archive in the primary.
 */
export const hibernateFolder = async (options: HibernateOptions): Promise<HibernateResult> => {
  const { workspaceDir, location, primary, mirror } = options;
  const written = await writeArchive({
    store: primary, location, workspaceDir,
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    ...(options.appVersion === undefined ? {} : { appVersion: options.appVersion }),
    verified: options.verifiedLog,
  });
  await options.onStep?.("archived");
  let mirrorError: unknown;
  if (mirror !== undefined) {
    mirrorError = await copyArchive(primary, mirror, location, written.archiveId).then(() => undefined, (error: unknown) => error);
  }
  await options.onStep?.("mirrored");
  const aside = join(dirname(workspaceDir), `.${basename(workspaceDir)}.hibernated-${written.archiveId}`);
  await rename(workspaceDir, aside);
  await fsyncPath(dirname(workspaceDir));
  await rm(aside, { recursive: true, force: true });
  await options.onStep?.("wiped");
  const result: HibernateResult = { archiveId: written.archiveId, manifest: written.manifest, vouched: written.vouched, ...(mirrorError === undefined ? {} : { mirrorError }) };
  const keep = options.keepArchives;
  if (keep === undefined) return result;
  let pruned: HibernateResult["pruned"];
  let pruneError: unknown;
  try {
    // This hibernation is the workspace's one writer, and its manifest is in: segments no kept
    // manifest names were left by one that failed before its own.
    const primaryPruned = await pruneArchives({ store: primary, location, keep, sweepSegments: true });
    const mirrorPruned = mirror !== undefined && mirrorError === undefined ? await pruneArchives({ store: mirror, location, keep }) : undefined;
    pruned = { primary: primaryPruned, ...(mirrorPruned === undefined ? {} : { mirror: mirrorPruned }) };
  } catch (error) {
    pruneError = error;
  }
  await options.onStep?.("pruned");
  return pruneError === undefined ? { ...result, pruned } : { ...result, pruneError };
};

export interface ResumeOptions {
  /** Where the workspace folder is restored; must not exist. */
  readonly targetDir: string;
  readonly location: WorkspaceLocation;
  readonly primary: ObjectStoreShape;
  readonly mirror?: ObjectStoreShape;
  /** Who resumes (host name), written into the claim. */
  readonly holder: string;
}

export interface ResumeResult {
  readonly manifest: ArchiveManifest;
  readonly from: "primary" | "mirror";
  /** What the restore verified of the log: pass it to the open (`LogOptions.verified`). */
  readonly verifiedLog: VerifiedLog | undefined;
}

/** The claim key of an archive: one create-only object per archive, so one resumer per hibernation. */
export const claimKey = (location: WorkspaceLocation, archiveId: string): string => `${workspacePrefix(location)}claims/${archiveId}`;

/**
 * Resume of a hibernated workspace: claims the newest archive with a create-only write in the
 * primary (a loser gets WorkspaceClaimed and opens nothing), restores it with every hash and
 * the log's chain verified, and falls back to the mirror when the primary's copy is missing or
 * fails verification. When both fail, nothing is at `targetDir`. The caller then opens the
 * folder (with `verifiedLog`, so the chain just checked is not checked again) and sends the
 * workspace its resume command.
 */
export const resumeFolder = async (options: ResumeOptions): Promise<ResumeResult> => {
  const { targetDir, location, primary, mirror, holder } = options;
  if (existsSync(targetDir)) throw new ArchiveRefused({ reason: `${targetDir} already exists: the workspace is not hibernated here` });
  const archiveId = (await latestArchive(primary, location)) ?? (mirror && (await latestArchive(mirror, location)));
  if (archiveId === undefined) throw new ArchiveRefused({ reason: `no archive of ${workspacePrefix(location)} in the primary or the mirror` });
  const store = objectStoreClient(primary);
  await store.create(claimKey(location, archiveId), new TextEncoder().encode(holder)).catch(async (error: unknown) => {
    if ((error as { _tag?: string })._tag !== "PreconditionFailed") throw error;
    throw new WorkspaceClaimed({ archiveId, holder: new TextDecoder().decode(await store.get(claimKey(location, archiveId))) });
  });
  return restoreEither({ primary, ...(mirror ? { mirror } : {}), location, archiveId, targetDir });
};

export interface RestoreEitherOptions {
  readonly primary: ObjectStoreShape;
  readonly mirror?: ObjectStoreShape;
  readonly location: WorkspaceLocation;
  readonly archiveId: string;
  /** Must not exist. */
  readonly targetDir: string;
}

/**
 * Restores one archive with every hash and the log's chain verified, from the primary, or from
 * the mirror when the primary's copy is missing or fails verification (not when the restore is
 * refused, e.g. the target exists). When both fail, nothing is at `targetDir`.
 */
export const restoreEither = async (options: RestoreEitherOptions): Promise<ResumeResult> => {
  const { primary, mirror, location, archiveId, targetDir } = options;
  try {
    return { ...(await restoreVerified({ store: primary, location, archiveId, targetDir })), from: "primary" };
  } catch (primaryError) {
    if (mirror === undefined || primaryError instanceof ArchiveRefused) throw primaryError;
    try {
      return { ...(await restoreVerified({ store: mirror, location, archiveId, targetDir })), from: "mirror" };
    } catch (mirrorError) {
      throw new ResumeFailed({ primary: primaryError, mirror: mirrorError });
    }
  }
};
