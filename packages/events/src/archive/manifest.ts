import { Schema } from "effect";
import { ArchiveCorrupted, ArchiveVersionUnsupported } from "./errors.ts";

export const ARCHIVE_FORMAT = "atelier-archive";
/** Bump when a reader of the previous version could not restore the new one. */
export const ARCHIVE_FORMAT_VERSION = 1;

const Sha256 = Schema.String.check(Schema.isPattern(/^[0-9a-f]{64}$/));
const Size = Schema.Number.check(Schema.isInt(), Schema.isGreaterThanOrEqualTo(0));
/** A relative POSIX path without `.` or `..` segments, so a manifest cannot write outside its folder. */
const RelativePath = Schema.String.check(Schema.isPattern(/^(?!\/)(?!.*(^|\/)\.{1,2}(\/|$))[^\\\0]+$/));

/** One stored object of an archive and the file it restores to. */
export const ArchivePart = Schema.Struct({
  kind: Schema.Literals(["segment", "database", "snapshot", "blob", "file"]),
  /** Where the file goes in the workspace folder. */
  path: RelativePath,
  /** The object's key, relative to the workspace prefix. */
  key: RelativePath,
  encoding: Schema.Literals(["gzip", "identity"]),
  /** Size and sha256 of the stored object's bytes. */
  size: Size,
  sha256: Sha256,
  /** Size and sha256 of the file once decoded. */
  contentSize: Size,
  contentSha256: Sha256,
});
export type ArchivePart = typeof ArchivePart.Type;

export const ArchiveManifest = Schema.Struct({
  format: Schema.Literal(ARCHIVE_FORMAT),
  version: Schema.Literal(ARCHIVE_FORMAT_VERSION),
  archiveId: Schema.String,
  createdAt: Schema.String,
  workspace: Schema.Struct({ org: Schema.String, team: Schema.String, user: Schema.String, workspace: Schema.String }),
  /** The build that wrote it. */
  appVersion: Schema.String,
  /** The log's last seq and hash: a restored log must end exactly here. */
  log: Schema.Struct({ head: Size, lastHash: Schema.String }),
  parts: Schema.Array(ArchivePart),
});
export type ArchiveManifest = typeof ArchiveManifest.Type;

export const encodeManifest = (manifest: ArchiveManifest): Uint8Array =>
  new TextEncoder().encode(`${JSON.stringify(manifest, null, 1)}\n`);

/**
 * Parses a manifest. The version is checked before the shape, so an archive from a newer build
 * gets "upgrade Atelier" rather than a list of fields this build does not know.
 */
export const decodeManifest = (archive: string, bytes: Uint8Array): ArchiveManifest => {
  const corrupt = (reason: string) => new ArchiveCorrupted({ archive, part: "manifest.json", reason });
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    throw corrupt("not valid UTF-8 JSON");
  }
  const head = raw as { format?: unknown; version?: unknown };
  if (head?.format !== ARCHIVE_FORMAT) throw corrupt(`format is ${JSON.stringify(head?.format)}, not "${ARCHIVE_FORMAT}"`);
  if (typeof head.version === "number" && head.version > ARCHIVE_FORMAT_VERSION) {
    throw new ArchiveVersionUnsupported({ archive, version: head.version, supported: ARCHIVE_FORMAT_VERSION });
  }
  try {
    return Schema.decodeUnknownSync(ArchiveManifest)(raw);
  } catch (error) {
    throw corrupt(String((error as Error).message ?? error));
  }
};
