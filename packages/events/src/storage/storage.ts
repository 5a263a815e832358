/**
 * The narrow file-system driver the log (and snapshots) write through. Two implementations:
 * the real file system and an in-memory one that injects faults for the simulator. Reads and
 * buffered writes are synchronous; only durability (`sync`, `syncDir`) is asynchronous, which
 * is where group commit gets its batching.
 */
export interface Storage {
  ensureDir(dir: string): void;
  /** Names (not paths) of the entries in `dir`, sorted; empty when the folder does not exist. */
  list(dir: string): string[];
  exists(path: string): boolean;
  /** Whole file, or undefined when there is none. */
  readFile(path: string): Uint8Array | undefined;
  /** Size in bytes of a file (0 when missing). */
  fileSize(path: string): number;
  /**
   * A token that changes whenever the file's bytes may have changed (undefined when missing).
   * Optional: a storage without it never takes a file on a producer's word (`VerifiedSegment.written`).
   */
  stamp?(path: string): string | undefined;
  /** Up to `length` bytes of a file from `position` (fewer at its end). */
  readRange(path: string, position: number, length: number): Uint8Array;
  /** Opens a file for appending, creating it when `create` is set. */
  openAppend(path: string, options?: { create?: boolean }): AppendFile;
  /** Writes a whole file crash-safely: temp file, sync, rename, sync the folder. */
  writeFileAtomic(path: string, data: Uint8Array): Promise<void>;
  remove(path: string): void;
  /** Makes the folder's entries (created, renamed, removed files) durable. */
  syncDir(dir: string): Promise<void>;
  /**
   * Takes the exclusive writer lock at `path` for `owner`. A lock whose owner is gone (a crashed
   * process) is taken over; a live one throws LogLocked.
   */
  acquireLock(path: string, owner: string): StorageLock;
}

export interface AppendFile {
  readonly path: string;
  size(): number;
  /** Reads up to `length` bytes at `position`. */
  read(position: number, length: number): Uint8Array;
  /** Appends at the end; visible to reads at once, durable only after `sync`. */
  append(data: Uint8Array): void;
  /** Makes every appended byte durable. */
  sync(): Promise<void>;
  /**
   * As sync, blocking the calling thread: cheaper than a thread-pool round trip when the disk is
   * fast. Optional; only for callers that bound how long they block.
   */
  syncBlocking?(): void;
  /** Cuts the file to `size` bytes and makes that durable. */
  truncate(size: number): Promise<void>;
  close(): void;
}

export interface StorageLock {
  release(): void;
}

/** Joins path segments with `/` (storage paths are always POSIX-style). */
export const joinPath = (...parts: string[]): string => parts.join("/").replace(/\/+/g, "/");

/** The folder part of a path. */
export const dirOf = (path: string): string => {
  const i = path.lastIndexOf("/");
  return i <= 0 ? (i === 0 ? "/" : ".") : path.slice(0, i);
};
