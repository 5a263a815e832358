import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rename, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { LogCorrupted } from "../errors.ts";
import { parseSegmentName } from "../log/segments.ts";
import { linkSegments, SegmentVerifier, type SegmentChain } from "./chain.ts";
import { ArchiveCorrupted, ArchiveRefused, NotFound } from "./errors.ts";
import { manifestKey, parseManifestKey, workspacePrefix, type WorkspaceLocation } from "./layout.ts";
import { decodeManifest, type ArchiveManifest, type ArchivePart } from "./manifest.ts";
import { fileSource, objectStoreClient, type ObjectStoreShape } from "./object-store.ts";
import { decodeFile, hashFile, mapLargestFirst, mapLimit, type Digest } from "./streams.ts";
import { GENESIS_HASH } from "../envelope.ts";
import type { VerifiedLog, WrittenSegment } from "../log/verify.ts";
import { backdateAndStamp, fsyncPath } from "../storage/node.ts";

export interface ArchiveEntry {
  readonly location: WorkspaceLocation;
  readonly archiveId: string;
  /** The manifest's full key. */
  readonly key: string;
}

/** Every archive in the store (or under one workspace), oldest first per workspace. */
export const listArchives = async (store: ObjectStoreShape, location?: WorkspaceLocation): Promise<ArchiveEntry[]> => {
  const prefix = location === undefined ? "organizations/" : `${workspacePrefix(location)}archives/`;
  const objects = await objectStoreClient(store).list(prefix);
  return objects.flatMap((o) => {
    const parsed = parseManifestKey(o.key);
    return parsed === undefined ? [] : [{ ...parsed, key: o.key }];
  });
};

/** The newest archive of a workspace (the greatest id), or undefined when it has none. */
export const latestArchive = async (store: ObjectStoreShape, location: WorkspaceLocation): Promise<string | undefined> =>
  (await listArchives(store, location)).at(-1)?.archiveId;

/** Fetches and checks a manifest: format, version (a newer one is refused), shape and identity. */
export const readManifest = async (store: ObjectStoreShape, location: WorkspaceLocation, archiveId: string): Promise<ArchiveManifest> => {
  const key = workspacePrefix(location) + manifestKey(archiveId);
  const manifest = decodeManifest(key, await objectStoreClient(store).get(key));
  const { org, team, user, workspace } = manifest.workspace;
  if (manifest.archiveId !== archiveId || org !== location.org || team !== location.team || user !== location.user || workspace !== location.workspace) {
    throw new ArchiveCorrupted({ archive: key, part: "manifest.json", reason: "names a different workspace or archive than its key" });
  }
  return manifest;
};

export interface RestoreOptions {
  readonly store: ObjectStoreShape;
  readonly location: WorkspaceLocation;
  /** The newest when absent. */
  readonly archiveId?: string;
  /** Must not exist: a restore never writes over a workspace. */
  readonly targetDir: string;
  readonly concurrency?: number;
}

/**
 * Downloads an archive into a staging folder beside `targetDir`, checks the size and sha256 of
 * every stored part and of every decoded file, verifies the log's hash chain with `scanLog` and
 * that it ends at the manifest's head and hash, and only then renames the folder into place.
 * On any failure the staging folder is removed and nothing appears at `targetDir`.
 */
export const restoreArchive = async (options: RestoreOptions): Promise<ArchiveManifest> => (await restoreVerified(options)).manifest;

export interface RestoredArchive {
  readonly manifest: ArchiveManifest;
  /**
   * The log as the restore verified it, for the open that follows (`LogOptions.verified`): it
   * checks only that the files still hold these bytes instead of the whole chain again.
   * Undefined for a log without lines.
   */
  readonly verifiedLog: VerifiedLog | undefined;
}

/** A log segment as the restore checks and writes it. */
interface RestoredSegment {
  readonly verifier: SegmentVerifier;
  content?: Digest;
  written?: WrittenSegment;
}

/** `restoreArchive`, also returning what it verified of the log. */
export const restoreVerified = async (options: RestoreOptions): Promise<RestoredArchive> => {
  const { store, location, targetDir } = options;
  if (existsSync(targetDir)) throw new ArchiveRefused({ reason: `${targetDir} already exists: a restore never writes over a workspace` });
  const archiveId = options.archiveId ?? (await latestArchive(store, location));
  if (archiveId === undefined) throw new NotFound({ store: store.name, key: `${workspacePrefix(location)}archives/` });
  const manifest = await readManifest(store, location, archiveId);
  const archive = workspacePrefix(location) + manifestKey(archiveId);
  const client = objectStoreClient(store);

  await mkdir(dirname(targetDir), { recursive: true });
  const staging = await mkdtemp(join(dirname(targetDir), `.${basename(targetDir)}.restoring-`));
  const downloads = await mkdtemp(join(tmpdir(), "atelier-restore-"));
  const chains = new Map<string, RestoredSegment>();
  try {
    await mapLargestFirst(manifest.parts, (part) => part.contentSize, options.concurrency ?? 4, async (part, index) => {
      const corrupt = (reason: string) => new ArchiveCorrupted({ archive, part: part.key, reason });
      const fetched = join(downloads, String(index));
      await client.download(workspacePrefix(location) + part.key, fetched);
      const target = join(staging, part.path);
      await mkdir(dirname(target), { recursive: true });
      let tap: ((chunk: Buffer) => void) | undefined;
      const segment = part.path.startsWith("log/") ? parseSegmentName(part.path.slice(4)) : undefined;
      const chain: RestoredSegment | undefined = segment === undefined ? undefined : { verifier: new SegmentVerifier(part.path, segment) };
      if (chain !== undefined) {
        chains.set(part.path, chain);
        tap = (chunk) => chain.verifier.push(chunk);
      }
      let coded;
      try {
        coded = await decodeFile(fetched, target, part.encoding, tap);
      } catch (error) {
        if (error instanceof LogCorrupted) throw new ArchiveCorrupted({ archive, part: "log", reason: error.message });
        throw corrupt(`cannot be decoded (${(error as Error).message})`);
      }
      if (coded.stored.size !== part.size || coded.stored.sha256 !== part.sha256) throw corrupt("stored bytes do not match the manifest's sha256");
      if (coded.content.size !== part.contentSize || coded.content.sha256 !== part.contentSha256) throw corrupt("decoded file does not match the manifest's sha256");
      // Synced here, while other parts still decode; all are durable before the rename.
      await Promise.all([fsyncPath(target), rm(fetched)]);
      if (chain !== undefined) {
        chain.content = coded.content;
        // Stamped once synced: the open takes this file on the restore's word while it stays so.
        chain.written = { stamp: backdateAndStamp(target), index: chain.verifier.index, hash: coded.running };
      }
    });
    const ordered = [...chains.keys()].sort().map((path) => ({ ...chains.get(path)!, end: chains.get(path)!.verifier.end() }));
    const workspace = verifyLog(ordered.map((c) => c.end), manifest, archive);
    await rename(staging, targetDir);
    await fsyncPath(dirname(targetDir));
    let prevHash = GENESIS_HASH;
    const verifiedLog: VerifiedLog | undefined = workspace === undefined ? undefined : {
      workspace,
      segments: ordered.map(({ end, content, written }) => {
        prevHash = end.lastHash ?? prevHash;
        return { name: end.file.slice(4), bytes: content!.size, sha256: content!.sha256, lastSeq: end.lastSeq, lastHash: prevHash, written: written! };
      }),
    };
    return { manifest, verifiedLog };
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  } finally {
    await rm(downloads, { recursive: true, force: true });
  }
};

/**
 * The chain, checked segment by segment while it was gunzip'd, joined and compared with the
 * manifest; returns the workspace its lines carry.
 */
const verifyLog = (segments: readonly SegmentChain[], manifest: ArchiveManifest, archive: string): string | undefined => {
  const corrupt = (reason: string) => new ArchiveCorrupted({ archive, part: "log", reason });
  let scan;
  try {
    scan = linkSegments(segments);
  } catch (error) {
    if (error instanceof LogCorrupted) throw corrupt(error.message);
    throw error;
  }
  if (scan.torn) throw corrupt(`ends in a torn line in ${scan.torn.file}`);
  if (scan.head !== manifest.log.head || scan.lastHash !== manifest.log.lastHash) {
    throw corrupt(`ends at seq ${scan.head}, the manifest says ${manifest.log.head}`);
  }
  return scan.workspace;
};

/** Restores into a temporary folder and removes it: every hash and the log chain, checked. */
export const verifyArchive = async (store: ObjectStoreShape, location: WorkspaceLocation, archiveId: string): Promise<ArchiveManifest> => {
  const dir = await mkdtemp(join(tmpdir(), "atelier-verify-"));
  try {
    return await restoreArchive({ store, location, archiveId, targetDir: join(dir, "ws") });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
};

/**
 * Copies an archive to another store (the mirror): every part, checked against the manifest on
 * the way, then the manifest last with a create-only write, so the copy too is either complete
 * or invisible. Parts the target already holds with the same sha256 are not sent again.
 */
export const copyArchive = async (from: ObjectStoreShape, to: ObjectStoreShape, location: WorkspaceLocation, archiveId: string): Promise<ArchiveManifest> => {
  const prefix = workspacePrefix(location);
  const manifest = await readManifest(from, location, archiveId);
  const source = objectStoreClient(from);
  const target = objectStoreClient(to);
  const scratch = await mkdtemp(join(tmpdir(), "atelier-copy-"));
  try {
    await mapLimit(manifest.parts, 4, async (part: ArchivePart, index) => {
      // Any doubt about what the target holds (missing, unreachable, no sha256) means send it again.
      const held = await target.head(prefix + part.key).catch(() => undefined);
      if (held?.sha256 === part.sha256 && held.size === part.size) return;
      const fetched = join(scratch, String(index));
      await source.download(prefix + part.key, fetched);
      if ((await hashFile(fetched)).sha256 !== part.sha256) throw new ArchiveCorrupted({ archive: prefix + manifestKey(archiveId), part: part.key, reason: "source bytes do not match the manifest's sha256" });
      await target.put(prefix + part.key, fileSource(fetched, part.sha256));
      await rm(fetched);
    });
    const bytes = await source.get(prefix + manifestKey(archiveId));
    await target.create(prefix + manifestKey(archiveId), bytes);
    return manifest;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
};
