import * as fs from "node:fs";
import { promisify } from "node:util";
import { LogLocked, StorageError } from "../errors.ts";
import { dirOf, type AppendFile, type Storage, type StorageLock } from "./storage.ts";

const fdatasync = promisify(fs.fdatasync);
const fsync = promisify(fs.fsync);

const wrap = <T>(op: string, path: string, fn: () => T): T => {
  try {
    return fn();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code && code !== "ENOENT" && code !== "EEXIST") throw new StorageError(code, op, path);
    throw error;
  }
};

const wrapAsync = async <T>(op: string, path: string, fn: () => Promise<T>): Promise<T> => {
  try {
    return await fn();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw code ? new StorageError(code, op, path) : error;
  }
};

/** Flushes a file, or a folder's entries (a rename or a new name in it), to the disk. */
export const fsyncPath = async (path: string): Promise<void> => {
  const fd = fs.openSync(path, "r");
  try {
    await wrapAsync("fsync", path, () => fsync(fd));
  } finally {
    fs.closeSync(fd);
  }
};

const processAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
};

/** Lock files this process holds: a lock naming our pid that is not here is a dead namesake's. */
const heldHere = new Set<string>();

class NodeAppendFile implements AppendFile {
  private length: number;
  constructor(
    readonly path: string,
    private readonly fd: number,
  ) {
    this.length = fs.fstatSync(fd).size;
  }
  size(): number {
    return this.length;
  }
  read(position: number, length: number): Uint8Array {
    const buffer = Buffer.allocUnsafe(Math.max(0, Math.min(length, this.length - position)));
    const n = wrap("read", this.path, () => fs.readSync(this.fd, buffer, 0, buffer.length, position));
    return buffer.subarray(0, n);
  }
  append(data: Uint8Array): void {
    let written = 0;
    while (written < data.length) {
      written += wrap("write", this.path, () => fs.writeSync(this.fd, data, written, data.length - written, null));
    }
    this.length += data.length;
  }
  sync(): Promise<void> {
    // fdatasync flushes the data and the size change that reads need; it skips mtime.
    return wrapAsync("fdatasync", this.path, () => fdatasync(this.fd));
  }
  syncBlocking(): void {
    wrap("fdatasync", this.path, () => fs.fdatasyncSync(this.fd));
  }
  async truncate(size: number): Promise<void> {
    wrap("truncate", this.path, () => fs.ftruncateSync(this.fd, size));
    this.length = size;
    await wrapAsync("fsync", this.path, () => fsync(this.fd));
  }
  close(): void {
    fs.closeSync(this.fd);
  }
}

/**
 * The file's identity, size and change times, in nanoseconds: any write, truncate or replacement
 * changes it (ctime cannot be set back from user space). Undefined when there is no such file.
 */
export const fileStamp = (path: string): string | undefined => {
  const s = fs.statSync(path, { bigint: true, throwIfNoEntry: false });
  return s === undefined ? undefined : `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
};

/**
 * Sets the file's mtime one second back, then returns its stamp: a later write sets mtime to the
 * current time, so it changes the stamp even on file systems whose timestamps are coarser than
 * the time between the two (no clock read: the second is taken off the file's own mtime).
 */
export const backdateAndStamp = (path: string): string => {
  const fd = fs.openSync(path, "r");
  try {
    const { atime, mtimeMs } = fs.fstatSync(fd);
    fs.futimesSync(fd, atime, (mtimeMs - 1000) / 1000);
  } finally {
    fs.closeSync(fd);
  }
  return fileStamp(path)!;
};

/** The real file system. */
export const nodeStorage = (): Storage => ({
  ensureDir: (dir) => void fs.mkdirSync(dir, { recursive: true }),
  list: (dir) => (fs.existsSync(dir) ? fs.readdirSync(dir).sort() : []),
  exists: (path) => fs.existsSync(path),
  readFile: (path) => (fs.existsSync(path) ? fs.readFileSync(path) : undefined),
  fileSize: (path) => (fs.existsSync(path) ? fs.statSync(path).size : 0),
  stamp: fileStamp,
  readRange(path, position, length) {
    const fd = fs.openSync(path, "r");
    try {
      const buffer = Buffer.allocUnsafe(length);
      const n = wrap("read", path, () => fs.readSync(fd, buffer, 0, length, position));
      return buffer.subarray(0, n);
    } finally {
      fs.closeSync(fd);
    }
  },
  openAppend(path, options) {
    const flags = options?.create ? "a+" : fs.constants.O_RDWR | fs.constants.O_APPEND;
    const fd = wrap("open", path, () => fs.openSync(path, flags));
    return new NodeAppendFile(path, fd);
  },
  async writeFileAtomic(path, data) {
    const tmp = `${path}.tmp`;
    const fd = fs.openSync(tmp, "w");
    try {
      fs.writeSync(fd, data);
      await wrapAsync("fsync", tmp, () => fsync(fd));
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, path);
    await this.syncDir(dirOf(path));
  },
  remove: (path) => fs.rmSync(path, { force: true }),
  syncDir: fsyncPath,
  acquireLock(path, owner): StorageLock {
    const content = JSON.stringify({ pid: process.pid, owner });
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        fs.writeFileSync(path, content, { flag: "wx" });
        heldHere.add(path);
        let released = false;
        return {
          release() {
            if (released) return;
            released = true;
            heldHere.delete(path);
            fs.rmSync(path, { force: true });
          },
        };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
        let holder: { pid?: number; owner?: string } = {};
        try {
          holder = JSON.parse(fs.readFileSync(path, "utf8"));
        } catch {
          // A lock file torn by a crash names no live owner.
        }
        if (holder.pid === process.pid && heldHere.has(path)) {
          throw new LogLocked(path, `${holder.owner ?? "this process"} (pid ${holder.pid})`);
        }
        // Our own pid without our own record is an earlier process that had the same pid (a
        // container's pid 1 after a restart): stale, like a lock whose process is gone.
        if (holder.pid && holder.pid !== process.pid && processAlive(holder.pid)) {
          throw new LogLocked(path, `${holder.owner ?? "another writer"} (pid ${holder.pid})`);
        }
        fs.rmSync(path, { force: true });
      }
    }
    throw new LogLocked(path, "a writer that keeps re-creating the lock");
  },
});
