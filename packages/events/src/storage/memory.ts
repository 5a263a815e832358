import { LogLocked, StorageError } from "../errors.ts";
import { chance, nextInt, type Random } from "../services/random.ts";
import { dirOf, type AppendFile, type Storage, type StorageLock } from "./storage.ts";

/** An injected I/O failure: after `afterOps` more operations of kind `op`, fail with `code`. */
export interface StorageFault {
  readonly op: "append" | "sync" | "any";
  readonly code: "EIO" | "ENOSPC";
  readonly afterOps: number;
  /** Keep failing after the first failure (a dead disk) or fail once (a transient error). */
  readonly persistent: boolean;
}

interface MemFile {
  /** What reads see now, synced or not. */
  data: Uint8Array;
  /** What survives a crash. */
  durable: Uint8Array;
  /** Whether the folder entry naming this file survives a crash. */
  entryDurable: boolean;
}

/** How a crash treats the bytes that were written but never synced. */
export interface CrashOptions {
  /** Probability that an unsynced tail keeps a random prefix (torn write) rather than vanishing. */
  readonly keepTornPrefix?: number;
}

const concat = (a: Uint8Array, b: Uint8Array): Uint8Array => {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
};

/**
 * An in-memory file system with a durability model: unsynced bytes and never-synced folder
 * entries are at risk in a crash, and I/O errors can be injected. Used by the simulator and by
 * the storage conformance suite.
 */
export class MemoryStorage implements Storage {
  private readonly files = new Map<string, MemFile>();
  private readonly dirs = new Set<string>();
  private readonly locks = new Map<string, string>();
  private faults: Array<StorageFault & { remaining: number; fired: boolean }> = [];
  private epoch = 0;
  /** Total bytes the store may hold; appends past it fail with ENOSPC. */
  capacityBytes = Number.POSITIVE_INFINITY;
  /** Count of injected failures that fired, for coverage reports. */
  faultsFired = 0;
  /** Count of successful file syncs, so tests can see group commit at work. */
  fileSyncs = 0;

  injectFault(fault: StorageFault): void {
    this.faults.push({ ...fault, remaining: fault.afterOps, fired: false });
  }

  clearFaults(): void {
    this.faults = [];
  }

  private check(op: "append" | "sync", path: string): void {
    for (const fault of this.faults) {
      if (fault.op !== "any" && fault.op !== op) continue;
      if (fault.fired && fault.persistent) {
        this.faultsFired++;
        throw new StorageError(fault.code, op, path);
      }
      if (fault.fired) continue;
      if (fault.remaining-- <= 0) {
        fault.fired = true;
        this.faultsFired++;
        throw new StorageError(fault.code, op, path);
      }
    }
  }

  private usedBytes(): number {
    let total = 0;
    for (const f of this.files.values()) total += f.data.length;
    return total;
  }

  private file(path: string): MemFile {
    const f = this.files.get(path);
    if (!f) throw Object.assign(new Error(`ENOENT: no such file ${path}`), { code: "ENOENT" });
    return f;
  }

  ensureDir(dir: string): void {
    for (let d = dir; d !== "." && d !== "/" && !this.dirs.has(d); d = dirOf(d)) this.dirs.add(d);
  }

  list(dir: string): string[] {
    const prefix = `${dir}/`;
    const names = new Set<string>();
    for (const path of [...this.files.keys(), ...this.dirs]) {
      if (path.startsWith(prefix)) names.add(path.slice(prefix.length).split("/")[0]!);
    }
    return [...names].sort();
  }

  exists(path: string): boolean {
    return this.files.has(path) || this.dirs.has(path);
  }

  readFile(path: string): Uint8Array | undefined {
    const f = this.files.get(path);
    return f ? f.data.slice() : undefined;
  }

  fileSize(path: string): number {
    return this.files.get(path)?.data.length ?? 0;
  }

  readRange(path: string, position: number, length: number): Uint8Array {
    return this.file(path).data.slice(position, position + length);
  }

  openAppend(path: string, options?: { create?: boolean }): AppendFile {
    if (!this.files.has(path)) {
      if (!options?.create) this.file(path);
      this.files.set(path, { data: new Uint8Array(0), durable: new Uint8Array(0), entryDurable: false });
    }
    const store = this;
    const epoch = this.epoch;
    const live = () => {
      if (store.epoch !== epoch) throw new StorageError("EBADF", "use after crash", path);
      return store.file(path);
    };
    return {
      path,
      size: () => live().data.length,
      read: (position, length) => live().data.slice(position, position + length),
      append(data) {
        const f = live();
        store.check("append", path);
        if (store.usedBytes() + data.length > store.capacityBytes) throw new StorageError("ENOSPC", "append", path);
        f.data = concat(f.data, data);
      },
      async sync() {
        live();
        // A real fsync takes time: a crash can land between the write and its sync.
        await Promise.resolve();
        const f = live();
        store.check("sync", path);
        f.durable = f.data.slice();
        store.fileSyncs++;
      },
      async truncate(size) {
        const f = live();
        store.check("sync", path);
        f.data = f.data.slice(0, size);
        f.durable = f.data.slice();
      },
      close() {},
    };
  }

  async writeFileAtomic(path: string, data: Uint8Array): Promise<void> {
    this.check("sync", path);
    this.files.set(path, { data: data.slice(), durable: data.slice(), entryDurable: false });
    await this.syncDir(dirOf(path));
  }

  remove(path: string): void {
    this.files.delete(path);
  }

  async syncDir(dir: string): Promise<void> {
    this.check("sync", dir);
    for (const [path, f] of this.files) if (dirOf(path) === dir) f.entryDurable = true;
  }

  acquireLock(path: string, owner: string): StorageLock {
    const holder = this.locks.get(path);
    if (holder !== undefined) throw new LogLocked(path, holder);
    this.locks.set(path, owner);
    return { release: () => void (this.locks.get(path) === owner && this.locks.delete(path)) };
  }

  /**
   * Power loss: open handles die, locks vanish, files whose folder entry was never synced are
   * gone, and each file keeps its synced bytes plus, sometimes, a random prefix of the rest.
   */
  crash(random: Random, options: CrashOptions = {}): void {
    this.epoch++;
    this.locks.clear();
    const keepTorn = options.keepTornPrefix ?? 0.5;
    for (const [path, f] of [...this.files]) {
      if (!f.entryDurable) {
        this.files.delete(path);
        continue;
      }
      const unsynced = startsWith(f.data, f.durable) ? f.data.subarray(f.durable.length) : new Uint8Array(0);
      const kept = unsynced.length > 0 && chance(random, keepTorn) ? nextInt(random, 0, unsynced.length) : 0;
      f.data = concat(f.durable, unsynced.subarray(0, kept));
      f.durable = f.data.slice();
    }
  }

  /** A process crash (kill -9): the OS keeps every written byte; only handles and locks die. */
  killProcess(): void {
    this.epoch++;
    this.locks.clear();
  }

  /** Flips one bit of a stored file, durably (a bad sector). */
  flipBit(path: string, byteOffset: number, bit = 0): void {
    const f = this.file(path);
    f.data[byteOffset]! ^= 1 << bit;
    f.durable = f.data.slice();
  }
}

const startsWith = (data: Uint8Array, prefix: Uint8Array): boolean => {
  if (prefix.length > data.length) return false;
  for (let i = 0; i < prefix.length; i++) if (data[i] !== prefix[i]) return false;
  return true;
};
