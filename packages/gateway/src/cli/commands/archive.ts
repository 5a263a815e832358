import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { LogLocked, listArchives, pruneArchives, readManifest, restoreEither, systemClock, type ObjectStoreShape, type WorkspaceLocation } from "@atelier/events";
import { archiveHost, gatewayLockPath, liveLockHolder, restoreHost, waitForStatus, type HibernationContext } from "../../archive/hibernation.ts";
import { archiveFlagOptions, archiveSettings, DEFAULT_KEEP_ARCHIVES, locationOf } from "../../archive/settings.ts";
import { openCatalog } from "../../catalog/catalog.ts";
import { WorkspaceCatalog } from "../../catalog/workspaces.ts";
import { readManifest as readFolderManifest, workspaceDir } from "../../server/folder.ts";
import { WorkspaceHost } from "../../server/host.ts";
import { UsageError, parseCommandArgs, type Command, type Output } from "../command.ts";
import { DEFAULT_DATA } from "./token.ts";

const options = { data: { type: "string" }, ...archiveFlagOptions } as const;
const FLAGS = "[--data d] [--gcs-bucket b] [--s3-bucket b] …";

/** Runs `fn` on `<data>`'s catalogue with the archive the flags and environment name. */
const withArchive = async <T>(args: string[], positionals: { min: number; max: number }, fn: (ctx: HibernationContext, ids: string[]) => Promise<T>): Promise<T> => {
  const { values, positionals: ids } = parseCommandArgs(args, options, positionals);
  const dataDir = values.data ?? DEFAULT_DATA;
  if (!existsSync(join(dataDir, "catalog.db"))) throw new UsageError(`${dataDir} holds no Atelier data (no catalog.db); pass --data`);
  const db = openCatalog(join(dataDir, "catalog.db"));
  try {
    const ctx: HibernationContext = {
      dataDir,
      catalog: new WorkspaceCatalog(db),
      settings: archiveSettings(dataDir, values),
      clock: systemClock,
      hostOptions: { fsync: "batch" },
      log: (line) => process.stderr.write(`${line}\n`),
    };
    return await fn(ctx, ids);
  } finally {
    db.close();
  }
};

/** A running server owns the data folder's workspaces: hibernate and resume go through its API then. */
const refuseWhileServed = (dataDir: string, id: string): void => {
  const holder = liveLockHolder(gatewayLockPath(dataDir));
  if (holder) {
    throw new Error(`a server (${holder.owner}) holds ${dataDir}: use POST /api/v2/workspaces/${id}/hibernate|resume, or stop it first`);
  }
};

const openHost = async (ctx: HibernationContext, id: string, name: string, demo: boolean): Promise<WorkspaceHost> => {
  try {
    return await WorkspaceHost.open(workspaceDir(ctx.dataDir, id), id, name, demo, ctx.hostOptions);
  } catch (error) {
    if (error instanceof LogLocked) throw new Error(`workspace ${id} is open in another process (${error.holder}) that holds its writer lock; hibernate it there, or stop it first`);
    throw error;
  }
};

export const hibernate: Command = {
  path: ["hibernate"],
  usage: `atelier hibernate <ws> ${FLAGS}`,
  summary: "archive a workspace (primary, then mirror), verify it, wipe its folder",
  async run(args, io) {
    return withArchive(args, { min: 1, max: 1 }, async (ctx, [id]) => {
      const row = ctx.catalog.get(id!);
      if (!row) throw new UsageError(`no workspace ${id} in ${ctx.dataDir}`);
      refuseWhileServed(ctx.dataDir, id!);
      if (row.state === "hibernated" && !existsSync(workspaceDir(ctx.dataDir, id!))) {
        io.out(`${id} is already hibernated (${row.archive?.archiveId ?? "archive unknown"})`);
        return 0;
      }
      if (!readFolderManifest(workspaceDir(ctx.dataDir, id!))) throw new Error(`workspace ${id}: folder missing and not hibernated`);
      const host = await openHost(ctx, id!, row.name, row.demo);
      try {
        const status = host.ws.status();
        if (status === "active" || status === "idle") await host.ws.lifecycle.hibernate("cli");
        await waitForStatus(host, (s) => s === "hibernated", "hibernating");
      } catch (error) {
        await host.close();
        throw error;
      }
      const record = await archiveHost(ctx, host);
      io.out(`hibernated ${id}: archive ${record.archiveId} (seq ${record.head}) in ${record.store}`);
      if (record.mirror) io.out(record.mirrorError ? `mirror ${record.mirror} FAILED: ${record.mirrorError}` : `mirrored to ${record.mirror}`);
      return 0;
    });
  },
};

export const resume: Command = {
  path: ["resume"],
  usage: `atelier resume <ws> ${FLAGS}`,
  summary: "restore a hibernated workspace (hashes and chain verified; mirror fallback)",
  async run(args, io) {
    return withArchive(args, { min: 1, max: 1 }, async (ctx, [id]) => {
      const row = ctx.catalog.get(id!);
      if (!row) throw new UsageError(`no workspace ${id} in ${ctx.dataDir}`);
      refuseWhileServed(ctx.dataDir, id!);
      if (row.state === "open") {
        io.out(`${id} is not hibernated`);
        return 0;
      }
      const { host, from } = await restoreHost(ctx, id!);
      const head = host.head;
      await host.close();
      io.out(`resumed ${id} from the ${from === "local" ? "local folder" : from} at seq ${head}`);
      return 0;
    });
  },
};

const listStore = async (store: ObjectStoreShape, ctx: HibernationContext, id: string | undefined) => {
  const entries = await listArchives(store, id === undefined ? undefined : locationOf(ctx.settings, id));
  return Promise.all(
    entries.map(async (e) => {
      try {
        const m = await readManifest(store, e.location, e.archiveId);
        return { ...e, head: m.log.head, bytes: m.parts.reduce((n, p) => n + p.size, 0), parts: m.parts.length, createdAt: m.createdAt };
      } catch (error) {
        return { ...e, error: error instanceof Error ? error.message : String(error) };
      }
    }),
  );
};

const table = (io: Output, rows: string[][]) => {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) io.out(r.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd());
};

export const archiveLs: Command = {
  path: ["archive", "ls"],
  usage: `atelier archive ls [ws] ${FLAGS}`,
  summary: "list archives in the primary (and mirror) with head, size and catalogue state",
  async run(args, io) {
    return withArchive(args, { min: 0, max: 1 }, async (ctx, [id]) => {
      const { primary, mirror } = ctx.settings;
      const [inPrimary, inMirror] = await Promise.all([listStore(primary, ctx, id), mirror ? listStore(mirror, ctx, id) : Promise.resolve([])]);
      const mirrored = new Set(inMirror.map((e) => e.key));
      const rows = [["WORKSPACE", "ARCHIVE", "HEAD", "PARTS", "BYTES", "MIRROR", "STATE"]];
      for (const e of inPrimary) {
        const state = ctx.catalog.get(e.location.workspace)?.state ?? "-";
        if ("error" in e) rows.push([e.location.workspace, e.archiveId, "?", "?", "?", mirrored.has(e.key) ? "yes" : "no", `${state} (manifest: ${e.error})`]);
        else rows.push([e.location.workspace, e.archiveId, String(e.head), String(e.parts), String(e.bytes), mirror ? (mirrored.has(e.key) ? "yes" : "no") : "-", state]);
      }
      io.out(`primary: ${primary.name}${mirror ? `  mirror: ${mirror.name}` : ""}`);
      if (rows.length === 1) io.out(id === undefined ? "no archives" : `no archives of ${id}`);
      else table(io, rows);
      return 0;
    });
  },
};

/**
 * The workspaces of this org, team and user that a store holds archives of (or just `id`): a
 * bucket shared with others is pruned only where this configuration would hibernate.
 */
const workspacesIn = async (store: ObjectStoreShape, ctx: HibernationContext, id: string | undefined): Promise<WorkspaceLocation[]> => {
  if (id !== undefined) return [locationOf(ctx.settings, id)];
  const { org, team, user } = ctx.settings;
  const archives = await listArchives(store);
  const names = new Set(archives.filter(({ location: l }) => l.org === org && l.team === team && l.user === user).map(({ location }) => location.workspace));
  return [...names].map((workspace) => locationOf(ctx.settings, workspace));
};

export const archivePrune: Command = {
  path: ["archive", "prune"],
  usage: `atelier archive prune [ws] [--keep-archives n] ${FLAGS}`,
  summary: `remove archives older than each workspace's newest n (default ${DEFAULT_KEEP_ARCHIVES}) and the objects only they use`,
  async run(args, io) {
    return withArchive(args, { min: 0, max: 1 }, async (ctx, [id]) => {
      const { primary, mirror, keepArchives = DEFAULT_KEEP_ARCHIVES } = ctx.settings;
      for (const store of mirror ? [primary, mirror] : [primary]) {
        const locations = await workspacesIn(store, ctx, id);
        if (locations.length === 0) io.out(`${store.name}: no archives`);
        for (const location of locations) {
          const pruned = await pruneArchives({ store, location, keep: keepArchives });
          const what = pruned.removed.length === 0 ? "nothing to prune" : `removed ${pruned.removed.length} archive(s), ${pruned.deleted} object(s)`;
          io.out(`${store.name}: ${location.workspace}: ${what}; kept ${pruned.kept.join(", ") || "none"}`);
        }
      }
      return 0;
    });
  },
};

/** `archiveId(head, createdAt)`: the log's head, then the creation time without separators. */
const ARCHIVE_ID = /^\d{16}-\d{8}T\d{9}Z$/;

export const archiveRestore: Command = {
  path: ["archive", "restore"],
  usage: `atelier archive restore <ws> <archive-id> <dir> ${FLAGS}`,
  summary: "restore one archive (any, not only the newest; ids from archive ls) into a new folder, verified; the catalogue is untouched",
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, options, { min: 3, max: 3 });
    const [id, archiveId, dir] = positionals as [string, string, string];
    if (!ARCHIVE_ID.test(archiveId)) throw new UsageError(`"${archiveId}" is not an archive id (such as 0000000000001234-20260201T020000000Z): see atelier archive ls`);
    // Only the store settings are needed: this works on a machine that has the bucket and no data folder.
    const settings = archiveSettings(values.data ?? DEFAULT_DATA, values);
    const { primary, mirror } = settings;
    const restored = await restoreEither({ primary, ...(mirror ? { mirror } : {}), location: locationOf(settings, id), archiveId, targetDir: resolve(dir) });
    io.out(`restored ${id} archive ${archiveId} (seq ${restored.manifest.log.head}, ${restored.manifest.parts.length} parts) from the ${restored.from} into ${dir}`);
    return 0;
  },
};
