import { joinPath, type Storage } from "@atelier/events";

/**
 * Where hibernation puts a workspace's snapshot (GCS/S3 in production, a folder by default).
 * `put` must be durable when it resolves.
 */
export interface ObjectStore {
  put(key: string, data: Uint8Array): Promise<void>;
  get(key: string): Promise<Uint8Array | undefined>;
}

/** An object store in a folder of the given storage (the local default, and the simulator's). */
export const folderObjectStore = (storage: Storage, root: string): ObjectStore => ({
  async put(key, data) {
    const path = joinPath(root, key);
    storage.ensureDir(path.slice(0, path.lastIndexOf("/")));
    await storage.writeFileAtomic(path, data);
  },
  async get(key) {
    return storage.readFile(joinPath(root, key));
  },
});
