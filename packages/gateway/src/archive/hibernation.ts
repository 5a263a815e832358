import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { copyArchive, hibernateFolder, latestArchive, pruneArchives, readManifest, resumeFolder, type Clock, type VerifiedLog } from "@atelier/events";
import { CommandRejected } from "@atelier/actors";
import { listAgents, promptQueue, workspaceStatus } from "@atelier/projections";
import type { ArchiveRecord, HeldPrompt, WorkspaceCatalog } from "../catalog/workspaces.ts";
import { APP_VERSION, workspaceDir, workspacesDir } from "../server/folder.ts";
import { WorkspaceHost, type HostOptions } from "../server/host.ts";
import { locationOf, type ArchiveSettings } from "./settings.ts";

/** What hibernation and resume need, in a gateway or in the CLI alike. */
export interface HibernationContext {
  readonly dataDir: string;
  readonly catalog: WorkspaceCatalog;
  readonly settings: ArchiveSettings;
  readonly clock: Clock;
  readonly hostOptions: HostOptions;
  readonly log: (line: string) => void;
}

const RUNNING = new Set(["active", "idle"]);
const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** Waits (polling the committed state) until the workspace reaches `want`; its error state fails it. */
export const waitForStatus = async (host: WorkspaceHost, want: (status: string) => boolean, what: string, timeoutMs = 120_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = host.ws.status();
    if (want(status)) return;
    if (status === "error") {
      const ctx = host.ws.actor<{ lastError: string | null }>("workspace")?.context;
      throw new Error(`workspace ${host.id} failed while ${what}: ${ctx?.lastError ?? "unknown error"}`);
    }
    if (Date.now() > deadline) throw new Error(`workspace ${host.id} did not finish ${what} within ${timeoutMs} ms (status ${status})`);
    await new Promise((r) => setTimeout(r, 5));
  }
};

/** The workspace's log went on past `workspace.hibernated` before it closed for the archive: it is served again. */
export class WokeWhileArchiving extends Error {
  constructor(id: string, hibernatedAt: number, head: number) {
    super(`workspace ${id} woke while it was being archived (its log went on from seq ${hibernatedAt} to ${head}); nothing was archived`);
  }
}

/**
 * Archives a workspace whose log says `hibernated` (the actors' hibernating state has stopped its
 * runners and snapshotted it): marks it hibernating in the catalogue, closes it (log with a final
 * snapshot, projection, sockets), writes the folder to the primary (parts, then the manifest as
 * the commit point, read back and checked against the log's head before anything is wiped; the
 * log segments it still holds exactly as the closed log vouched for are not line-checked again),
 * copies it to the mirror (a failure is reported and retried in the background, not fatal),
 * wipes the folder and records the workspace as hibernated. A crash before the wipe leaves the
 * folder intact (the gateway archives it again when it reopens); after it, a complete archive.
 */
export const archiveHost = async (ctx: HibernationContext, host: WorkspaceHost): Promise<ArchiveRecord> => {
  const status = host.ws.status();
  if (status !== "hibernated") throw new Error(`workspace ${host.id} is ${status}, not hibernated: nothing to archive`);
  const { primary, mirror } = ctx.settings;
  const location = locationOf(ctx.settings, host.id);
  const head = host.head;
  const pending: ArchiveRecord = {
    archiveId: "",
    head,
    store: primary.name,
    mirror: mirror?.name ?? null,
    mirrorError: null,
    agents: listAgents(host.projection).map((a) => a.id),
    // A prompt in flight is queued again at the wake, so it counts.
    queued: Object.fromEntries(promptQueue(host.projection, { limit: 1 }).map((q) => [q.agent, q.queuedTotal + (q.processing ? 1 : 0)])),
    hibernatedAt: ctx.clock.now(),
    lastActivityAt: workspaceStatus(host.projection)?.lastActivityAt ?? null,
  };
  ctx.catalog.setState(host.id, "hibernating", pending);
  await host.close("workspace hibernated: reconnect once it resumes");
  // A request that had the workspace before it was withdrawn may have woken it meanwhile (a prompt
  // resumes a hibernated workspace): its log goes on past `workspace.hibernated`, so nothing is archived.
  if (host.head !== head) throw new WokeWhileArchiving(host.id, head, host.head);
  const result = await hibernateFolder({
    workspaceDir: host.dir,
    location,
    primary,
    ...(mirror ? { mirror } : {}),
    clock: ctx.clock,
    appVersion: APP_VERSION,
    verifiedLog: host.ws.log.vouch(),
    ...(ctx.settings.keepArchives === undefined ? {} : { keepArchives: ctx.settings.keepArchives }),
    onStep: async (step) => {
      if (step !== "archived") return;
      // The manifest as the primary now serves it must name this log's head, or nothing is wiped.
      const archives = await latestArchive(primary, location);
      const manifest = archives === undefined ? undefined : await readManifest(primary, location, archives);
      if (manifest?.log.head !== head) throw new Error(`the primary's newest archive of ${host.id} does not end at seq ${head}; the folder is kept`);
    },
  });
  const record: ArchiveRecord = {
    ...pending,
    archiveId: result.archiveId,
    mirrorError: result.mirrorError === undefined ? null : message(result.mirrorError),
  };
  ctx.catalog.setState(host.id, "hibernated", record);
  if (result.pruneError !== undefined) ctx.log(`workspace ${host.id}: archived as ${result.archiveId}, but pruning older archives failed: ${message(result.pruneError)}`);
  if (result.mirrorError !== undefined) {
    ctx.log(`workspace ${host.id}: archived to ${primary.name} as ${result.archiveId}, but the mirror copy failed: ${record.mirrorError}; retrying in the background`);
    void retryMirror(ctx, host.id, record);
  }
  return record;
};

/** The mirror copy again, a few times with growing pauses; the catalogue says how it ended. */
const retryMirror = async (ctx: HibernationContext, id: string, record: ArchiveRecord, delays = [1_000, 5_000, 30_000]): Promise<void> => {
  const { primary, mirror } = ctx.settings;
  if (!mirror) return;
  let last: unknown;
  for (const delay of delays) {
    await new Promise((r) => setTimeout(r, delay).unref());
    try {
      const location = locationOf(ctx.settings, id);
      await copyArchive(primary, mirror, location, record.archiveId);
      // The hibernation pruned the primary only, the mirror copy having failed then.
      const keep = ctx.settings.keepArchives;
      if (keep !== undefined) await pruneArchives({ store: mirror, location, keep }).catch((error: unknown) => ctx.log(`workspace ${id}: pruning the mirror failed: ${message(error)}`));
      const row = ctx.catalog.get(id);
      if (row?.archive?.archiveId === record.archiveId) ctx.catalog.setState(id, row.state, { ...row.archive, mirrorError: null });
      ctx.log(`workspace ${id}: mirror copy of ${record.archiveId} done on retry`);
      return;
    } catch (error) {
      last = error;
    }
  }
  ctx.log(`workspace ${id}: mirror copy of ${record.archiveId} still failing: ${message(last)}`);
};

/**
 * Wakes a hibernated workspace: restores its folder from the newest archive (claimed in the
 * primary; every hash and the log's chain verified; the mirror when the primary's copy is
 * missing or corrupt; nothing opened when neither verifies), opens it (timers re-armed at their
 * recorded deadlines), delivers the prompts held while it slept (each keyed by its request id,
 * so a retry after a crash queues it once) or asks to resume, and waits for `workspace.resumed`.
 * The held prompts and the hibernated record are dropped only then.
 */
export const restoreHost = async (ctx: HibernationContext, id: string): Promise<{ host: WorkspaceHost; from: "primary" | "mirror" | "local" }> => {
  const row = ctx.catalog.get(id);
  if (!row) throw new Error(`no workspace ${id} in the catalogue`);
  if (row.state === "open") throw new Error(`workspace ${id} is not hibernated`);
  const dir = workspaceDir(ctx.dataDir, id);
  let from: "primary" | "mirror" | "local" = "local";
  let verifiedLog: VerifiedLog | undefined;
  if (!existsSync(dir)) {
    ctx.catalog.setState(id, "resuming");
    try {
      const { primary, mirror } = ctx.settings;
      const restored = await resumeFolder({
        targetDir: dir,
        location: locationOf(ctx.settings, id),
        primary,
        ...(mirror ? { mirror } : {}),
        holder: ctx.settings.holder ?? "atelier",
      });
      from = restored.from;
      verifiedLog = restored.verifiedLog;
      if (from === "mirror") ctx.log(`workspace ${id}: the primary's archive failed verification; resumed from the mirror`);
    } catch (error) {
      ctx.catalog.setState(id, "hibernated", row.archive && { ...row.archive, resumeError: message(error) });
      throw error;
    }
  } else {
    ctx.catalog.setState(id, "resuming");
  }
  const host = await WorkspaceHost.open(dir, id, row.name, row.demo, { ...ctx.hostOptions, verifiedLog });
  try {
    const delivered = new Set<string>();
    await queueHeld(ctx, host, delivered);
    if (host.ws.status() === "hibernated") await host.ws.lifecycle.resume();
    await waitForStatus(host, (s) => RUNNING.has(s), "resuming");
    // Prompts keep being held until the workspace is served (it is "resuming" till then): those that
    // came during the awaits above are queued too, until a look finds none new. From the last look to
    // the workspace being served nothing else runs, so none is left behind in the catalogue.
    while (ctx.catalog.held(id).some((p) => !delivered.has(p.requestId))) await queueHeld(ctx, host, delivered);
    for (const requestId of delivered) ctx.catalog.release(id, requestId);
    ctx.catalog.setState(id, "open", null);
    return { host, from };
  } catch (error) {
    await host.close().catch(() => undefined);
    throw error;
  }
};

/**
 * Queues in `host` the prompts held for it that are not in `delivered` yet, each keyed by its request
 * id (so a retry after a crash queues it once), and adds them to `delivered`; the caller releases them
 * from the catalogue once they are all queued. A prompt the workspace refuses now (a full queue, an
 * agent gone) is reported and counted as delivered, or the wake would never finish.
 */
export const queueHeld = async (ctx: Pick<HibernationContext, "catalog" | "log">, host: WorkspaceHost, delivered: Set<string>): Promise<void> => {
  for (const prompt of ctx.catalog.held(host.id).filter((p) => !delivered.has(p.requestId))) {
    try {
      await host.ws.prompts.enqueue(prompt.agent, { ...prompt.spec, clientRequestId: prompt.requestId });
    } catch (error) {
      if (!(error instanceof CommandRejected)) throw error;
      ctx.log(`workspace ${host.id}: held prompt ${prompt.requestId} for ${prompt.agent} was refused on wake: ${error.message}`);
    }
    delivered.add(prompt.requestId);
  }
};

/** Holds a prompt for a hibernated workspace in the catalogue (durable while the folder is away). */
export const holdPrompt = (ctx: HibernationContext, id: string, prompt: HeldPrompt): { duplicate: boolean } => ctx.catalog.hold(id, prompt);

/** An import's staging folder names the process building it (`import/apply.ts`). */
const IMPORTING = /^\.import-.+-(\d+)-[0-9a-f]{8}$/;

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM"; // alive, someone else's
  }
};

/**
 * Folders a crash left aside: one renamed mid-wipe (the archive was complete before the rename);
 * an import's staging folder whose process is gone (nothing was catalogued); and, when `restores`
 * (this process owns the data folder, so no other one is restoring into it), a restore's staging
 * folder (the archive is intact, and a wake restores it again).
 */
export const removeLeftovers = (dataDir: string, { restores }: { restores: boolean }): void => {
  const root = workspacesDir(dataDir);
  if (!existsSync(root)) return;
  const leftover = restores ? /^\..+\.(?:hibernated|restoring)-/ : /^\..+\.hibernated-/;
  for (const name of readdirSync(root)) {
    const importer = IMPORTING.exec(name)?.[1];
    if (leftover.test(name) || (importer !== undefined && !alive(Number(importer)))) rmSync(join(root, name), { recursive: true, force: true });
  }
};

/** The pid in a lock file, when that process is alive and is not this one. */
export const liveLockHolder = (path: string): { pid: number; owner: string } | undefined => {
  if (!existsSync(path)) return undefined;
  try {
    const { pid, owner } = JSON.parse(readFileSync(path, "utf8")) as { pid?: number; owner?: string };
    if (!pid || pid === process.pid) return undefined;
    process.kill(pid, 0);
    return { pid, owner: owner ?? "another process" };
  } catch {
    return undefined;
  }
};

export const gatewayLockPath = (dataDir: string): string => join(dataDir, "gateway.lock");
