import { existsSync } from "node:fs";
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { logDir, parseSegmentName } from "../log/segments.ts";
import { scanLog, type VerifiedLog } from "../log/verify.ts";
import { systemClock, type Clock } from "../services/clock.ts";
import { nodeStorage } from "../storage/node.ts";
import { ArchiveCorrupted, ArchiveRefused } from "./errors.ts";
import { archiveFileKey, archiveId, blobKey, databaseKey, manifestKey, sessionKey, workspacePrefix, type WorkspaceLocation } from "./layout.ts";
import { ARCHIVE_FORMAT, ARCHIVE_FORMAT_VERSION, encodeManifest, type ArchiveManifest, type ArchivePart } from "./manifest.ts";
import { fileSource, objectStoreClient, type ObjectStoreClient, type ObjectStoreShape } from "./object-store.ts";
import { GENESIS_HASH } from "../envelope.ts";
import { linkSegments, SegmentVerifier, type SegmentChain } from "./chain.ts";
import { encodeFile, firstLine, lastLine, mapLargestFirst, type Coded, type Encoding } from "./streams.ts";
import { chainOnWord, heldSegmentPart, vouchedChain, vouchedSegments } from "./vouched.ts";
import { latestArchive, readManifest } from "./reader.ts";

export interface WriteArchiveOptions {
  readonly store: ObjectStoreShape;
  readonly location: WorkspaceLocation;
  /** The workspace folder; its log must be quiescent (closed, or its writer paused). */
  readonly workspaceDir: string;
  readonly clock?: Clock;
  /** Recorded in the manifest. */
  readonly appVersion?: string;
  /** Parts prepared and uploaded at once (default 4). */
  readonly concurrency?: number;
  /** zlib level for gzip'd parts (default 1: JSONL still shrinks ~5x, and hibernation stays fast). */
  readonly gzipLevel?: number;
  /** Databases up to this many bytes are copied in memory, larger ones by online backup to a file (default 256 MiB). */
  readonly inMemoryDatabaseBytes?: number;
  /**
   * What the workspace's log vouched for when it closed (`EventLog.vouch`): a segment whose bytes,
   * as streamed, have exactly the vouched size and sha256 is not line-checked; any other is.
   */
  readonly verified?: VerifiedLog | undefined;
}

export interface WrittenArchive {
  readonly archiveId: string;
  /** The manifest's full key in the store. */
  readonly manifestKey: string;
  readonly manifest: ArchiveManifest;
  /** Content-addressed parts the store already held, so not uploaded again. */
  readonly reused: number;
  /** Log lines taken on `verified`'s word instead of checked again. */
  readonly vouched: number;
}

/** Files that are not part of a workspace's state: locks, SQLite side files, unfinished writes. */
const TRANSIENT_FILE = /(^|\/)writer\.lock$|\.(tmp|download)$|-(wal|shm|journal)$/;
const BLOB_PATH = /^blobs\/[0-9a-f]{2}\/([0-9a-f]{64})$/;

const listFiles = async (dir: string, prefix = ""): Promise<string[]> => {
  const out: string[] = [];
  for (const entry of await readdir(join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix + entry.name;
    if (entry.isDirectory()) out.push(...(await listFiles(dir, `${rel}/`)));
    else if (entry.isFile() && !TRANSIENT_FILE.test(rel)) out.push(rel);
  }
  return out;
};

type Kind = ArchivePart["kind"];
const kindOf = (path: string): Kind => {
  if (path.startsWith("log/") && parseSegmentName(path.slice(4)) !== undefined) return "segment";
  if (BLOB_PATH.test(path)) return "blob";
  if (/^[^/]+\.db$/.test(path)) return "database";
  if (path.startsWith("snapshots/")) return "snapshot";
  return "file";
};

/** Databases up to this size are copied into memory (`serialize`) rather than backed up to a file. */
const IN_MEMORY_DATABASE_BYTES = 256 * 1024 * 1024;

/** The size of a file, 0 when there is none. */
const sizeOr0 = async (path: string): Promise<number> => (await stat(path).catch(() => undefined))?.size ?? 0;

/**
 * Whether a database is consistent as it lies on disk: no WAL frames and no rollback journal, so
 * nothing holds it open mid-write (a closed workspace: its last connection folded and deleted the
 * WAL). Such a file is gzip'd straight from disk, in the thread pool; a live one is copied first.
 */
const closedDatabase = async (path: string): Promise<boolean> =>
  (await sizeOr0(`${path}-wal`)) === 0 && !existsSync(`${path}-journal`);

/**
 * A consistent copy of a live SQLite database, WAL folded in: read in one read transaction
 * (`sqlite3_serialize`, ~4x faster than the page-stepped online backup and no file to write and
 * read back) when it is small enough to hold in memory; otherwise the online backup API to `to`.
 * Returns the bytes, or undefined when they are in `to`.
 */
const copyDatabase = async (from: string, to: string, inMemoryBytes: number): Promise<Buffer | undefined> => {
  // Loaded on demand: most users of @atelier/events never archive and need not load the addon.
  const { default: Database } = await import("better-sqlite3");
  const db = new Database(from, { readonly: true, fileMustExist: true });
  try {
    const pages = db.pragma("page_count", { simple: true }) as number;
    const pageSize = db.pragma("page_size", { simple: true }) as number;
    if (pages * pageSize <= inMemoryBytes) return db.serialize();
    await db.backup(to);
    return undefined;
  } finally {
    db.close();
  }
};

/**
 * Writes the workspace folder as an archive: every part goes up first (the log as gzip'd JSONL
 * under `sessions/YYYY/MM/DD/`, SQLite databases by online backup, snapshots and other files
 * gzip'd, blobs as they are), then the manifest, with a create-only write, which is the commit
 * point; it is read back and compared before this resolves. Content-addressed parts (log
 * segments, blobs) the store already holds with the same sha256 are not sent again, and a
 * vouched segment the newest archive already stores is taken as that archive's part without
 * reading its file (`heldSegmentPart`). A crash
 * before the manifest leaves only unreferenced objects, never an archive that looks complete.
 */
export const writeArchive = async (options: WriteArchiveOptions): Promise<WrittenArchive> => {
  const { workspaceDir, location } = options;
  if (!existsSync(workspaceDir)) throw new ArchiveRefused({ reason: `no workspace folder at ${workspaceDir}` });
  const scan = await logEnd(workspaceDir);
  if (scan.torn !== undefined) {
    throw new ArchiveRefused({ reason: `log ends in a torn line (${scan.torn}): open the log once to repair it, then archive` });
  }
  // The chain is verified as the segments stream through gzip (read once), and must end where
  // the tail said before the manifest, the commit point, is written. A vouched segment streams
  // unchecked: its sha256 is known only at the end, then it is taken, or read again and checked.
  const chains = new Map<string, SegmentChain>();
  const vouches = vouchedSegments(options.verified, location.workspace);
  let vouched = 0;
  const store = objectStoreClient(options.store);
  const prefix = workspacePrefix(location);
  const createdAtMs = (options.clock ?? systemClock).now();
  const id = archiveId(scan.head, createdAtMs);
  const createdAt = new Date(createdAtMs).toISOString();
  const level = options.gzipLevel ?? 1;
  let reused = 0;

  // Segments the newest archive already stores, for vouched segments that have not changed since.
  const earlier = vouches.size === 0 ? new Map<string, ArchivePart>() : await earlierSegments(options.store, location);

  const scratch = await mkdtemp(join(tmpdir(), "atelier-archive-"));
  try {
    const files = await listFiles(workspaceDir);
    const sizes = new Map(await Promise.all(files.map(async (path) => [path, (await stat(join(workspaceDir, path))).size] as const)));
    const parts = await mapLargestFirst(files, (path) => sizes.get(path)!, options.concurrency ?? 4, async (path, index) => {
      const kind = kindOf(path);
      const source = join(workspaceDir, path);
      const firstSeq = kind === "segment" ? parseSegmentName(path.slice(4))! : 0;
      const vouch = kind === "segment" ? vouches.get(path.slice(4)) : undefined;
      const held = vouch && (await heldSegmentPart(store, prefix, earlier.get(path), vouch, sizes.get(path)!));
      if (held) {
        const taken = chainOnWord(source, firstSeq, vouch!, location.workspace);
        chains.set(path, taken.chain);
        vouched += taken.vouched;
        reused++;
        return held;
      }
      const staged = join(scratch, String(index));
      const encoding: Encoding = kind === "blob" ? "identity" : "gzip";
      let input: string | Buffer = source;
      if (kind === "database" && !(await closedDatabase(source))) {
        const backup = `${staged}.db`;
        input = (await copyDatabase(source, backup, options.inMemoryDatabaseBytes ?? IN_MEMORY_DATABASE_BYTES)) ?? backup;
      }
      const verifier = kind === "segment" && vouch === undefined ? new SegmentVerifier(source, firstSeq) : undefined;
      const coded = await encodeFile(input, staged, encoding, level, verifier && ((chunk) => verifier.push(chunk)));
      if (verifier !== undefined) chains.set(path, verifier.end());
      if (vouch !== undefined) {
        const taken = await vouchedChain(source, firstSeq, coded.content, vouch, location.workspace);
        chains.set(path, taken.chain);
        vouched += taken.vouched;
      }
      const key = await keyFor(kind, path, source, coded, id, createdAt);
      const part: ArchivePart = {
        kind, path, key, encoding,
        size: coded.stored.size, sha256: coded.stored.sha256,
        contentSize: coded.content.size, contentSha256: coded.content.sha256,
      };
      if (await upload(store, prefix + key, staged, part)) reused++;
      return part;
    });
    const linked = linkSegments([...chains.keys()].sort().map((path) => chains.get(path)!));
    if (linked.torn !== undefined || linked.head !== scan.head || linked.lastHash !== scan.lastHash) {
      throw new ArchiveRefused({ reason: `the log changed while it was archived (ends at seq ${linked.head}, its tail said ${scan.head}): archive a closed workspace` });
    }
    const manifest: ArchiveManifest = {
      format: ARCHIVE_FORMAT,
      version: ARCHIVE_FORMAT_VERSION,
      archiveId: id,
      createdAt,
      workspace: { ...location },
      appVersion: options.appVersion ?? "unknown",
      log: { head: scan.head, lastHash: scan.lastHash },
      parts,
    };
    const bytes = encodeManifest(manifest);
    const key = prefix + manifestKey(id);
    await store.create(key, bytes);
    const back = await store.get(key);
    if (!Buffer.from(back).equals(bytes)) {
      throw new ArchiveCorrupted({ archive: key, part: "manifest.json", reason: "read back differs from what was written" });
    }
    return { archiveId: id, manifestKey: key, manifest, reused, vouched };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
};

/** The newest archive's segment parts by path; none when there is no archive or its manifest does not read. */
const earlierSegments = async (store: ObjectStoreShape, location: WorkspaceLocation): Promise<Map<string, ArchivePart>> => {
  try {
    const id = await latestArchive(store, location);
    const parts = id === undefined ? [] : (await readManifest(store, location, id)).parts;
    return new Map(parts.filter((part) => part.kind === "segment").map((part) => [part.path, part]));
  } catch {
    return new Map();
  }
};

/**
 * Where the log ends, from the last line of its last segment (the chain itself is checked while
 * it streams); anything unusual (an empty last segment, an unreadable tail) scans the whole log.
 */
const logEnd = async (workspaceDir: string): Promise<{ head: number; lastHash: string; torn: string | undefined }> => {
  const dir = logDir(workspaceDir);
  const names = existsSync(dir) ? nodeStorage().list(dir).filter((n) => parseSegmentName(n) !== undefined) : [];
  if (names.length === 0) return { head: 0, lastHash: GENESIS_HASH, torn: undefined };
  const last = join(dir, names.at(-1)!);
  const tail = await lastLine(last);
  if (tail !== undefined && !tail.complete) return { head: 0, lastHash: GENESIS_HASH, torn: last };
  try {
    const record = JSON.parse(tail!.line) as { seq?: unknown; hash?: unknown };
    if (typeof record.seq === "number" && typeof record.hash === "string") return { head: record.seq, lastHash: record.hash, torn: undefined };
  } catch {
    // fall through to the full scan, which names what is wrong
  }
  const scan = scanLog(nodeStorage(), dir);
  return { head: scan.head, lastHash: scan.lastHash, torn: scan.torn?.file };
};

const keyFor = async (kind: Kind, path: string, source: string, coded: Coded, id: string, createdAt: string): Promise<string> => {
  switch (kind) {
    case "segment": {
      const line = await firstLine(source);
      const ts = line === undefined ? undefined : (JSON.parse(line) as { ts?: unknown }).ts;
      // The log was verified above, so its first line is JSON; an odd ts only changes the folder.
      const day = typeof ts === "string" && /^\d{4}-\d{2}-\d{2}/.test(ts) ? ts : createdAt;
      return sessionKey(day, parseSegmentName(path.slice(4))!, coded.content.sha256);
    }
    case "blob": {
      const name = BLOB_PATH.exec(path)![1]!;
      if (name !== coded.content.sha256) throw new ArchiveRefused({ reason: `blob ${path} does not hash to its name: the workspace is damaged` });
      return blobKey(name);
    }
    case "database":
      return databaseKey(id, path);
    default:
      return archiveFileKey(id, path);
  }
};

/** Uploads a staged part; a content-addressed one the store already holds is kept (returns true). */
const upload = async (store: ObjectStoreClient, key: string, staged: string, part: ArchivePart): Promise<boolean> => {
  if (part.kind === "segment" || part.kind === "blob") {
    const held = await store.head(key).catch((error: unknown) => {
      if ((error as { _tag?: string })._tag === "NotFound") return undefined;
      throw error;
    });
    // Only a recorded sha256 proves the bytes; a store without metadata (local) gets a fresh copy.
    if (held?.sha256 === part.sha256 && held.size === part.size) return true;
  }
  await store.put(key, fileSource(staged, part.sha256));
  return false;
};
