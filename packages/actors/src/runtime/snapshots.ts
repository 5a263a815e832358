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
const name = (seq: number) => `${String(seq).padStart(16, "0")}.json`;

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
  for (const old of names.slice(0, Math.max(0, names.length - KEEP))) storage.remove(joinPath(folder, old));
}

/**
 * The newest snapshot that is readable, not ahead of the log, and whose hash matches the log's
 * event at its seq. A damaged or foreign snapshot is skipped: the log is the truth, the snapshot
 * only a shortcut.
 */
export function loadSnapshot(storage: Storage, dir: string, log: EventLog): SnapshotFile | undefined {
  const folder = joinPath(dir, SNAPSHOT_DIR);
  for (const n of storage.list(folder).filter((x) => x.endsWith(".json")).reverse()) {
    const bytes = storage.readFile(joinPath(folder, n));
    const file = bytes && decodeSnapshot(bytes);
    if (!file || file.workspace !== log.workspace || file.world.seq > log.head()) continue;
    if (file.world.seq === 0) return file;
    const [event] = [...log.read({ from: file.world.seq, to: file.world.seq })];
    if (event?.hash === file.hash) return file;
  }
  return undefined;
}
