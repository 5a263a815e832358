import { nodeStorage, type AppendFile, type Storage, StorageError } from "@atelier/events";

/**
 * The local file system, with a switch that makes it full: appends and atomic writes fail with
 * ENOSPC while it is on. A real full disk needs a mount (privileges these tests do not have), so
 * this is the one injected part; the files, the log, SQLite, HTTP and WebSockets are all real.
 */
export const fillableDisk = () => {
  const disk = { full: false };
  const base = nodeStorage();
  const refuse = (op: string, path: string) => {
    if (disk.full) throw new StorageError("ENOSPC", op, path);
  };
  const storage: Storage = {
    ...base,
    openAppend(path, options) {
      const file = base.openAppend(path, options);
      const wrapped: AppendFile = {
        path: file.path,
        size: () => file.size(),
        read: (position, length) => file.read(position, length),
        append: (data) => (refuse("append", path), file.append(data)),
        sync: () => file.sync(),
        ...(file.syncBlocking ? { syncBlocking: () => file.syncBlocking!() } : {}),
        truncate: (size) => file.truncate(size),
        close: () => file.close(),
      };
      return wrapped;
    },
    writeFileAtomic: async (path, data) => (refuse("write", path), base.writeFileAtomic(path, data)),
  };
  return { disk, storage };
};
