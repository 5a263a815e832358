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

/** A snapshot store in a folder of the given storage (the local default, and the simulator's). */
export const folderSnapshotStore = (storage: Storage, root: string): SnapshotStore => ({
  async put(key, data) {
    const path = joinPath(root, key);
    storage.ensureDir(path.slice(0, path.lastIndexOf("/")));
    await storage.writeFileAtomic(path, data);
  },
  async get(key) {
    return storage.readFile(joinPath(root, key));
  },
});
