import { GENESIS_HASH } from "../envelope.ts";
import { isAscii, isUtf8 } from "node:buffer";
import type { Hash } from "node:crypto";
import { chainHash, HASH_SUFFIX_LENGTH, lineHashMatches } from "./encode.ts";
import { LogCorrupted } from "../errors.ts";
import type { Storage } from "../storage/storage.ts";
import { joinPath } from "../storage/storage.ts";
import { INDEX_EVERY, parseSegmentName, type Segment } from "./segments.ts";
import { SegmentDigest } from "./vouch.ts";

/** A final line without its newline: the bytes a crash cut short. */
export interface TornTail {
  readonly file: string;
  /** Byte offset where the whole lines end. */
  readonly offset: number;
  readonly bytes: number;
}

export interface ScanResult {
  readonly segments: Segment[];
  readonly head: number;
  readonly lastHash: string;
  readonly torn: TornTail | undefined;
  /** Lines taken on a `VerifiedLog`'s word instead of checked again (0 without one, or when it did not match). */
  readonly vouched: number;
  /** With `digests` asked for: per segment, a running sha256 of exactly its checked bytes (for the log to go on with). */
  readonly digests?: SegmentDigest[];
}

const NEWLINE = 10;
const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * What a caller verified of a log moments before, segment by segment, in log order: the
 * restore of an archive checks the whole chain as it writes the files, and hands this to the
 * open that follows so the same bytes are not checked twice. See `scanLog`.
 */
export interface VerifiedLog {
  /** The workspace every verified line carries. */
  readonly workspace: string;
  readonly segments: readonly VerifiedSegment[];
}

export interface VerifiedSegment {
  /** The segment file's name (`<first seq>.jsonl`). */
  readonly name: string;
  /** How many of its first bytes were verified: whole lines, ending in a newline. */
  readonly bytes: number;
  /** sha256 (hex) of those bytes. */
  readonly sha256: string;
  /** The seq of its last verified line (first seq - 1 when it has none). */
  readonly lastSeq: number;
  /** That line's hash (its predecessor's when it has none). */
  readonly lastHash: string;
  /**
   * Set by a producer that wrote the file itself and checked every line as it did (the restore):
   * the file's `Storage.stamp` once it was synced, its line index and the running sha256 over its
   * bytes. While the stamp is unchanged and the file holds exactly `bytes`, the open takes these
   * instead of reading it at all. In-process only: the hash is a live object.
   */
  readonly written?: WrittenSegment;
}

export interface WrittenSegment {
  readonly stamp: string;
  /** As `Segment.index`: [seq, byte offset of its line], every INDEX_EVERY lines. */
  readonly index: ReadonlyArray<readonly [number, number]>;
  /** sha256 over the file's bytes so far, not finalised (the log goes on hashing what it appends). */
  readonly hash: Hash;
}

/**
 * Reads every segment and checks the chain: seq is dense from 1, each hash covers its line and its
 * predecessor's hash, and the workspace id matches. Only a last line without its newline counts as
 * torn; anything else that is wrong throws LogCorrupted naming the file and seq.
 *
 * With `verified` (for the same workspace), the lines it covers are not checked again when the
 * files still hold exactly the verified bytes: each hinted segment, in order from the first, must
 * have its name, at least its byte count, sha256 over those bytes equal to the hint's, the
 * hint's number of lines, and its last line's hash equal to the hint's. Those lines are then
 * only indexed, and the check resumes after them (bytes appended since, later segments). A hint
 * that does not match in any way is dropped and the whole log is checked, so a hint can skip
 * work but never make the log accept bytes that were not verified. What it does trust is its
 * producer's word that those bytes formed a valid chain.
 *
 * `digests`: also hash each segment's checked bytes (one sha256 pass; with a matching hint, the
 * one its check makes), so that the log can vouch for them when it closes.
 */
export const scanLog = (storage: Storage, dir: string, workspace?: string, verified?: VerifiedLog, digests = false): ScanResult => {
  const steps = scanLogSteps(storage, dir, workspace, verified, digests);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
};

/** `scanLog` one segment read at a time, so that a caller can give way between them (`LogOptions.giveWay`). */
export function* scanLogSteps(storage: Storage, dir: string, workspace?: string, verified?: VerifiedLog, digests = false): Generator<void, ScanResult> {
  if (verified !== undefined && (workspace === undefined || workspace === verified.workspace)) {
    const trusted = yield* scan(storage, dir, workspace, verified.segments, digests);
    if (trusted !== undefined) return trusted;
  }
  return (yield* scan(storage, dir, workspace, undefined, digests))!;
}

/** The scan, pausing after each segment it read; with `hint`, undefined when the files do not match it. */
function* scan(storage: Storage, dir: string, workspace: string | undefined, hint: readonly VerifiedSegment[] | undefined, wantDigests: boolean): Generator<void, ScanResult | undefined> {
  const names = storage.list(dir).filter((n) => parseSegmentName(n) !== undefined);
  const segments: Segment[] = [];
  let expected = 1;
  let prevHash = GENESIS_HASH;
  let torn: TornTail | undefined;
  const wsField = workspaceField(workspace);
  let trusting = hint !== undefined && hint.length > 0 && hint.length <= names.length;
  let vouched = 0;
  const digests: SegmentDigest[] | undefined = wantDigests ? [] : undefined;
  if (hint !== undefined && !trusting) return undefined;

  for (const [i, name] of names.entries()) {
    const path = joinPath(dir, name);
    const firstSeq = parseSegmentName(name)!;
    const isLast = i === names.length - 1;
    if (firstSeq !== expected) throw new LogCorrupted(path, expected, `segment starts at seq ${firstSeq}, expected ${expected}`);
    const hinted = trusting ? hint![i] : undefined;
    const written = hinted === undefined ? undefined : unchangedSince(storage, path, name, firstSeq, hinted);
    if (written !== undefined) {
      segments.push({ name, path, firstSeq, lastSeq: hinted!.lastSeq, bytes: hinted!.bytes, index: written.index.map(([s, o]) => [s, o]) });
      digests?.push(new SegmentDigest(name, hinted!.lastHash, { bytes: hinted!.bytes, hash: written.hash }));
      vouched += hinted!.lastSeq - firstSeq + 1;
      expected = hinted!.lastSeq + 1;
      prevHash = hinted!.lastHash;
      continue;
    }
    const data = asBuffer(storage.readFile(path) ?? new Uint8Array(0));
    const segment: Segment = { name, path, firstSeq, lastSeq: firstSeq - 1, bytes: 0, index: [] };
    let start = 0;
    const digest = hinted !== undefined || digests !== undefined ? new SegmentDigest(name, prevHash) : undefined;
    if (hinted !== undefined) {
      if (!indexVerified(data, hinted, segment, prevHash, digest!)) return undefined;
      vouched += hinted.lastSeq - firstSeq + 1;
      start = hinted.bytes;
      expected = hinted.lastSeq + 1;
      prevHash = hinted.lastHash;
      // Only a prefix is trusted: after bytes it does not cover, every line is checked.
      if (hinted.bytes !== data.length) trusting = false;
    } else trusting = false;
    const checked = checkLines(data, start, segment, prevHash, isLast, workspace, wsField);
    prevHash = checked.lastHash;
    torn = checked.torn;
    expected = segment.lastSeq + 1;
    segments.push(segment);
    if (digests !== undefined) {
      digest!.update(data.subarray(digest!.bytes, segment.bytes));
      digest!.lastHash = prevHash;
      digests.push(digest!);
    }
    yield;
  }
  return { segments, head: expected - 1, lastHash: prevHash, torn, vouched, ...(digests === undefined ? {} : { digests }) };
}

/**
 * Checks every line of `data` from byte `start` on, chaining from `prevHash`, and records them in
 * `segment` (last seq, bytes, index). A plain function, not part of the generator around it: V8
 * runs this hot loop ~5% slower inside a generator.
 */
const checkLines = (
  data: Buffer,
  start: number,
  segment: Segment,
  prevHash: string,
  isLast: boolean,
  workspace: string | undefined,
  wsField: ReturnType<typeof workspaceField>,
): { lastHash: string; torn: TornTail | undefined } => {
  const ascii = start === data.length || isAscii(data.subarray(start));
  let expected = segment.lastSeq + 1;
  while (start < data.length) {
    const end = data.indexOf(NEWLINE, start);
    if (end === -1) {
      if (!isLast) throw new LogCorrupted(segment.path, expected, "segment ends in a partial line");
      return { lastHash: prevHash, torn: { file: segment.path, offset: start, bytes: data.length - start } };
    }
    const seq = expected;
    prevHash = writerLineHash(data, start, end, seq, prevHash, wsField, ascii) ?? slowLineCheck(data, start, end, seq, prevHash, workspace, segment.path).hash;
    if (seq === segment.firstSeq || seq - segment.index.at(-1)![0] >= INDEX_EVERY) segment.index.push([seq, start]);
    segment.lastSeq = seq;
    segment.bytes = end + 1;
    expected++;
    start = end + 1;
  }
  return { lastHash: prevHash, torn: undefined };
};

/**
 * The `written` part of a hint when the file is still exactly what its producer wrote: same stamp,
 * exactly the hinted bytes, and an index the log can seek by (see `indexFits`).
 */
const unchangedSince = (storage: Storage, path: string, name: string, firstSeq: number, hinted: VerifiedSegment): WrittenSegment | undefined => {
  const { written } = hinted;
  if (written === undefined || storage.stamp === undefined || hinted.name !== name) return undefined;
  if (!Number.isSafeInteger(hinted.bytes) || !indexFits(written.index, firstSeq, hinted.lastSeq, hinted.bytes)) return undefined;
  if (storage.stamp(path) !== written.stamp || storage.fileSize(path) !== hinted.bytes) return undefined;
  return written;
};

/**
 * Whether `index` could be a segment's: it starts at the first line (offset 0), and its seqs (up to
 * `lastSeq`) and offsets (below `bytes`) only rise. A malformed hint is then dropped, never sought by.
 */
const indexFits = (index: WrittenSegment["index"], firstSeq: number, lastSeq: number, bytes: number): boolean => {
  if (lastSeq < firstSeq || index[0]?.[0] !== firstSeq || index[0][1] !== 0) return false;
  for (let i = 1; i < index.length; i++) {
    const [seq, offset] = index[i]!;
    if (!(seq > index[i - 1]![0] && seq <= lastSeq && offset > index[i - 1]![1] && offset < bytes)) return false;
  }
  return true;
};

/**
 * Whether `data` starts with exactly the bytes `hinted` describes (see scanLog); if so, indexes
 * its lines into `segment` without checking them. `digest` takes those bytes.
 */
const indexVerified = (data: Buffer, hinted: VerifiedSegment, segment: Segment, prevHash: string, digest: SegmentDigest): boolean => {
  const { bytes } = hinted;
  if (hinted.name !== segment.name || !Number.isSafeInteger(bytes) || bytes < 0 || bytes > data.length) return false;
  if (bytes === 0) return hinted.lastSeq === segment.firstSeq - 1 && hinted.lastHash === prevHash;
  if (data[bytes - 1] !== NEWLINE) return false;
  digest.update(data.subarray(0, bytes));
  if (digest.sha256() !== hinted.sha256) return false;
  let seq = segment.firstSeq;
  let start = 0;
  let end = -1;
  for (; start < bytes; seq++) {
    end = data.indexOf(NEWLINE, start);
    if (seq === segment.firstSeq || seq - segment.index.at(-1)![0] >= INDEX_EVERY) segment.index.push([seq, start]);
    start = end + 1;
  }
  segment.lastSeq = seq - 1;
  segment.bytes = bytes;
  return segment.lastSeq === hinted.lastSeq && end >= HASH_SUFFIX_LENGTH && data.toString("latin1", end - 66, end - 2) === hinted.lastHash;
};

const OPEN_SEQ = Buffer.from('{"seq":');
const HASH_FIELD = Buffer.from(',"hash":"');
/** `,"ts":"` + 24 characters of ISO time + `"`: what the writer puts between seq and ws. */
const TS_FIELD_LENGTH = 32;
const CLOSE_BRACE = 0x7d;
const QUOTE = 0x22;

/** The bytes `,"ws":"<id>",` that the writer puts after seq and ts, for `writerLineHash`. */
export const workspaceField = (workspace: string | undefined): Uint8Array | undefined =>
  workspace === undefined ? undefined : new TextEncoder().encode(`,"ws":${JSON.stringify(workspace)},`);

/** `data` as a Buffer (a view, no copy), for its native slicing. */
export const asBuffer = (data: Uint8Array): Buffer => (Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength));

/** Whether `data` holds `needle` at `at` (a plain loop: Buffer.compare's checks cost more for a few bytes). */
const bytesAt = (data: Uint8Array, at: number, needle: Uint8Array): boolean => {
  if (at + needle.length > data.length) return false;
  for (let i = 0; i < needle.length; i++) if (data[at + i] !== needle[i]) return false;
  return true;
};

/**
 * Checks the line `data[start, end)` as the writer lays it out, on its bytes, without parsing it:
 * seq, workspace (when `wsField` is given) and the chain hash onto `prevHash`. A line whose hash
 * covers its bytes was written by the log, so it is valid UTF-8 JSON with a type. Returns the
 * line's hash, or undefined when anything differs from that layout, so that `slowLineCheck` can
 * accept it or name what is wrong. `ascii`: the caller checked that all of `data` is ASCII (one
 * `isAscii` per buffer); otherwise the line's body must be valid UTF-8, so that the string it is
 * hashed as stands for exactly its bytes. The one check shared by `scanLog` and the archive's
 * streamed `SegmentVerifier`.
 */
export const writerLineHash = (
  data: Buffer, start: number, end: number, seq: number, prevHash: string, wsField: Uint8Array | undefined, ascii: boolean,
): string | undefined => {
  const bodyEnd = end - HASH_SUFFIX_LENGTH;
  if (bodyEnd <= start || !bytesAt(data, start, OPEN_SEQ) || !bytesAt(data, bodyEnd, HASH_FIELD)) return undefined;
  if (data[end - 2] !== QUOTE || data[end - 1] !== CLOSE_BRACE) return undefined;
  let p = start + OPEN_SEQ.length;
  let stored = 0;
  for (let c = data[p]!; c >= 0x30 && c <= 0x39; c = data[++p]!) stored = stored * 10 + (c - 0x30);
  if (stored !== seq || p === start + OPEN_SEQ.length) return undefined;
  if (wsField && !bytesAt(data, p + TS_FIELD_LENGTH, wsField)) return undefined;
  // One string and one-shot hash: cheaper than assembling the covered bytes in a buffer. An ASCII
  // body is its latin1 string; any other must be valid UTF-8 to survive the round trip unchanged.
  let body: string;
  if (ascii) body = data.toString("latin1", start, bodyEnd);
  else if (isUtf8(data.subarray(start, bodyEnd))) body = data.toString("utf8", start, bodyEnd);
  else return undefined;
  const computed = chainHash(prevHash, `${body}}`);
  const claimed = end - 66;
  for (let i = 0; i < 64; i++) if (data[claimed + i] !== computed.charCodeAt(i)) return undefined;
  return computed;
};

/**
 * Decodes and parses the line to accept it or to throw LogCorrupted saying what is wrong. With
 * `prevHash` undefined (a segment's first line checked before its predecessor's end is known)
 * the hash is not checked; the line is returned with its claimed hash for the caller to link.
 */
export const slowLineCheck = (
  data: Uint8Array, start: number, end: number, seq: number, prevHash: string | undefined, workspace: string | undefined, path: string,
): { line: string; hash: string; ws: unknown } => {
  const fail = (reason: string) => new LogCorrupted(path, seq, reason);
  let line: string;
  let record: { seq?: unknown; ws?: unknown; hash?: unknown; type?: unknown };
  try {
    line = decoder.decode(data.subarray(start, end));
    record = JSON.parse(line);
  } catch {
    throw fail("line is not valid UTF-8 JSON");
  }
  if (record.seq !== seq) throw fail(`line carries seq ${String(record.seq)}, expected ${seq}`);
  if (workspace !== undefined && record.ws !== workspace) throw fail(`line belongs to workspace ${String(record.ws)}`);
  if (typeof record.type !== "string") throw fail("line has no type");
  if (typeof record.hash !== "string" || line.length <= HASH_SUFFIX_LENGTH || (prevHash !== undefined && !lineHashMatches(line, prevHash, record.hash))) {
    throw fail("hash does not match the line and its predecessor");
  }
  return { line, hash: record.hash, ws: record.ws };
};
