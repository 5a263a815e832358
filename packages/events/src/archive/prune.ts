import { ArchiveRefused } from "./errors.ts";
import { manifestKey, workspacePrefix, type WorkspaceLocation } from "./layout.ts";
import { objectStoreClient, type ObjectStoreShape } from "./object-store.ts";
import { listArchives, readManifest } from "./reader.ts";
import { mapLimit } from "./streams.ts";

export interface PruneOptions {
  readonly store: ObjectStoreShape;
  readonly location: WorkspaceLocation;
  /** How many of the newest archives stay (at least 1). */
  readonly keep: number;
  /**
   * Also remove log segments that no kept manifest names: those a hibernation uploaded and then
   * failed or crashed before its manifest. Only for the workspace's one writer, right after its
   * own manifest (a hibernation's prune of the primary): another writer's segments are named by
   * no manifest until its manifest lands, so any other prune must leave them.
   */
  readonly sweepSegments?: boolean;
}

export interface PrunedArchives {
  /** Archive ids left, oldest first. */
  readonly kept: readonly string[];
  /** Archive ids whose manifests were removed, oldest first. */
  readonly removed: readonly string[];
  /** Objects deleted, manifests included. */
  readonly deleted: number;
}

/** Keys that belong to one archive id: its manifest and files, its databases, its resume claim. */
const PER_ARCHIVE_FOLDERS = ["archives/", "databases/", "claims/"];
const PER_ARCHIVE = /^(?:archives|databases|claims)\/([^/]+)(?:\/|$)/;
/** Where the log's segments live, shared by every archive that names them (`sessionKey`). */
const SEGMENTS = "sessions/";

/**
 * Removes a workspace's archives older than its newest `keep`, with every object only they use:
 * their per-archive keys (manifest, files, databases, claim), per-archive keys a crashed
 * hibernation left without a manifest, and the log segments only removed manifests name (with
 * `sweepSegments`, every segment no kept manifest names).
 *
 * Safe beside a hibernation writing a newer archive: only ids older than the oldest kept archive
 * are touched (a writer's id is newer: it resumed from the newest and its head only grew), and a
 * removed manifest's segment that no kept one names is a state of the log no later archive can
 * have (logs only grow). Blobs are left alone: a blob a workspace drops and stores again has the
 * same key, and a writer that finds it held does not upload it. Parts go first and the manifest
 * last, so a crash mid-prune leaves the evidence for the next prune to finish the job.
 */
export const pruneArchives = async ({ store, location, keep, sweepSegments = false }: PruneOptions): Promise<PrunedArchives> => {
  if (!Number.isInteger(keep) || keep < 1) throw new ArchiveRefused({ reason: `the number of archives to keep must be a whole number ≥ 1, not ${keep}` });
  const archives = (await listArchives(store, location)).map((entry) => entry.archiveId);
  if (archives.length === 0) return { kept: [], removed: [], deleted: 0 };
  const kept = archives.slice(-keep);
  const removed = archives.slice(0, -keep);
  const oldestKept = kept[0]!;
  // A kept manifest that cannot be read stops the prune: what it uses is then unknown.
  const used = new Set<string>();
  for (const id of kept) for (const part of (await readManifest(store, location, id)).parts) used.add(part.key);

  const doomed = new Set<string>();
  for (const id of removed) {
    // An unreadable old manifest names nothing: its per-archive keys still go below, its segments stay.
    const parts = await readManifest(store, location, id).then((m) => m.parts, () => []);
    for (const part of parts) if (part.kind === "segment" && !used.has(part.key)) doomed.add(part.key);
  }
  const client = objectStoreClient(store);
  const prefix = workspacePrefix(location);
  const manifests = new Set(removed.map(manifestKey));
  // Only the per-archive folders are listed (and the segments when swept): a workspace's blobs may be many.
  const listed = await Promise.all([...PER_ARCHIVE_FOLDERS, ...(sweepSegments ? [SEGMENTS] : [])].map((folder) => client.list(prefix + folder)));
  for (const { key } of listed.flat()) {
    const relative = key.slice(prefix.length);
    if (relative.startsWith(SEGMENTS)) {
      if (!used.has(relative)) doomed.add(relative);
      continue;
    }
    const id = PER_ARCHIVE.exec(relative)?.[1];
    if (id !== undefined && id < oldestKept && !used.has(relative) && !manifests.has(relative)) doomed.add(relative);
  }
  await mapLimit([...doomed], 8, (key) => client.delete(prefix + key));
  for (const key of manifests) await client.delete(prefix + key);
  return { kept, removed, deleted: doomed.size + manifests.size };
};
