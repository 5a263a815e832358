import { joinPath, type Storage } from "@atelier/events";

/**
 * Where hibernation puts the workspace's snapshot before `workspace.hibernated` is recorded (a
 * folder inside the workspace by default, so the archive of the folder carries it). Not the
 * archive's object store: `ObjectStore` of @atelier/events (GCS, S3, local) archives the whole
 * folder once the workspace is closed; this port only holds the one snapshot, and is what the
 * simulator injects faults into. `put` must be durable when it resolves.
 */
export interface SnapshotStore {
  put(key: string, data: Uint8Array): Promise<void>;
  get(key: string): Promise<Uint8Array | undefined>;
}

/** Hibernation snapshots kept per folder: the newest, and the one before in case its record failed. */
const KEEP = 2;
const SNAPSHOT_NAME = /^(\d+)\.json$/;

/**
 * A snapshot store in a folder of the given storage (the local default, and the simulator's).
 * Keys are `<workspace>/snapshots/<seq>.json`; each put keeps only the newest KEEP of its folder,
 * by seq, so that a workspace hibernated many times does not archive every snapshot it ever took.
 */
export const folderSnapshotStore = (storage: Storage, root: string): SnapshotStore => ({
  async put(key, data) {
    const path = joinPath(root, key);
    const folder = path.slice(0, path.lastIndexOf("/"));
    storage.ensureDir(folder);
    await storage.writeFileAtomic(path, data);
    const seqs = storage.list(folder).flatMap((name) => SNAPSHOT_NAME.exec(name)?.[1] ?? []).map(Number).sort((a, b) => b - a);
    for (const seq of seqs.slice(KEEP)) storage.remove(joinPath(folder, `${seq}.json`));
  },
  async get(key) {
    return storage.readFile(joinPath(root, key));
  },
});
