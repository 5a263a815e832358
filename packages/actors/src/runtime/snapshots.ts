import { createHash } from "node:crypto";
import { joinPath, type EventLog, type Storage } from "@atelier/events";
import type { WorldState } from "../machines/index.ts";

/**
 * Snapshot files: `<dir>/snapshots/<seq>.json` holding the whole world at a committed seq plus
 * that event's hash, so a snapshot that does not belong to this log is never used.
 */
export interface SnapshotFile {
  readonly format: 1;
  readonly workspace: string;
  readonly hash: string;
  readonly world: WorldState;
}

const SNAPSHOT_DIR = "snapshots";
const KEEP = 2;
/**
 * Besides the newest KEEP, the first snapshot of each of the newest LANDMARKS blocks of
 * LANDMARK_EVERY seqs is kept: a studio starts a long workspace's recent history there
 * (`snapshotNear`) instead of folding the whole log in the browser.
 */
const LANDMARK_EVERY = 25_000;
const LANDMARKS = 4;
const name = (seq: number) => `${String(seq).padStart(16, "0")}.json`;
const seqOf = (file: string) => Number(file.slice(0, -".json".length));

/** The snapshot files to keep of `names` (sorted oldest first). */
export const retainedSnapshots = (names: readonly string[]): Set<string> => {
  const keep = new Set(names.slice(-KEEP));
  const firstOfBlock = new Map<number, string>();
  for (const n of names) {
    const block = Math.floor(seqOf(n) / LANDMARK_EVERY);
    if (!firstOfBlock.has(block)) firstOfBlock.set(block, n);
  }
  for (const n of [...firstOfBlock.values()].slice(-LANDMARKS)) keep.add(n);
  return keep;
};

/** sha256 of the world as stored: a damaged snapshot must be refused, not loaded (the log is the truth). */
const digestOf = (world: WorldState): string => createHash("sha256").update(JSON.stringify(world)).digest("hex");

export const encodeSnapshot = (file: SnapshotFile): Uint8Array => new TextEncoder().encode(JSON.stringify({ ...file, digest: digestOf(file.world) }));

/** The snapshot, or undefined when it is unreadable or its world does not match its digest (files without one predate it). */
export const decodeSnapshot = (bytes: Uint8Array): SnapshotFile | undefined => {
  try {
    const file = JSON.parse(new TextDecoder().decode(bytes)) as SnapshotFile & { digest?: unknown };
    if (file.format !== 1 || typeof file.world?.seq !== "number") return undefined;
    return file.digest === undefined || file.digest === digestOf(file.world) ? file : undefined;
  } catch {
    return undefined;
  }
};

export async function writeSnapshot(storage: Storage, dir: string, file: SnapshotFile): Promise<void> {
  const folder = joinPath(dir, SNAPSHOT_DIR);
  storage.ensureDir(folder);
  await storage.writeFileAtomic(joinPath(folder, name(file.world.seq)), encodeSnapshot(file));
  const names = storage.list(folder).filter((n) => n.endsWith(".json"));
  const keep = retainedSnapshots(names);
  for (const old of names) if (!keep.has(old)) storage.remove(joinPath(folder, old));
}

/** The snapshot stored as `file`, if it is readable, of this log, not ahead of it, and its hash matches the log's event at its seq. */
const validSnapshot = (storage: Storage, folder: string, file: string, log: EventLog): SnapshotFile | undefined => {
  const bytes = storage.readFile(joinPath(folder, file));
  const snapshot = bytes && decodeSnapshot(bytes);
  if (!snapshot || snapshot.workspace !== log.workspace || snapshot.world.seq > log.head()) return undefined;
  if (snapshot.world.seq === 0) return snapshot;
  const [event] = [...log.read({ from: snapshot.world.seq, to: snapshot.world.seq })];
  return event?.hash === snapshot.hash ? snapshot : undefined;
};

const snapshotFiles = (storage: Storage, dir: string) => {
  const folder = joinPath(dir, SNAPSHOT_DIR);
  return { folder, newestFirst: storage.list(folder).filter((x) => x.endsWith(".json")).reverse() };
};

/**
 * The newest snapshot that is readable, not ahead of the log, and whose hash matches the log's
 * event at its seq. A damaged or foreign snapshot is skipped: the log is the truth, the snapshot
 * only a shortcut.
 */
export function loadSnapshot(storage: Storage, dir: string, log: EventLog): SnapshotFile | undefined {
  const { folder, newestFirst } = snapshotFiles(storage, dir);
  for (const n of newestFirst) {
    const file = validSnapshot(storage, folder, n, log);
    if (file) return file;
  }
  return undefined;
}

/**
 * Where to start reading history that should reach back to `at`: the newest valid snapshot at
 * or before it, else the oldest valid one (the history then starts later than asked), else none.
 */
export function snapshotNear(storage: Storage, dir: string, log: EventLog, at: number): SnapshotFile | undefined {
  const { folder, newestFirst } = snapshotFiles(storage, dir);
  let oldest: SnapshotFile | undefined;
  for (const n of newestFirst) {
    const file = validSnapshot(storage, folder, n, log);
    if (!file) continue;
    if (file.world.seq <= at) return file;
    oldest = file;
  }
  return oldest;
}
