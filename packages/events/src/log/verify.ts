import { GENESIS_HASH } from "../envelope.ts";
import { hash as digest } from "node:crypto";
import { HASH_SUFFIX_LENGTH, lineHashMatches } from "./encode.ts";
import { LogCorrupted } from "../errors.ts";
import type { Storage } from "../storage/storage.ts";
import { joinPath } from "../storage/storage.ts";
import { INDEX_EVERY, parseSegmentName, type Segment } from "./segments.ts";

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
}

const NEWLINE = 10;
const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * Reads every segment and checks the chain: seq is dense from 1, each hash covers its line and its
 * predecessor's hash, and the workspace id matches. Only a last line without its newline counts as
 * torn; anything else that is wrong throws LogCorrupted naming the file and seq.
 */
export const scanLog = (storage: Storage, dir: string, workspace?: string): ScanResult => {
  const names = storage.list(dir).filter((n) => parseSegmentName(n) !== undefined);
  const segments: Segment[] = [];
  let expected = 1;
  let prevHash = GENESIS_HASH;
  let torn: TornTail | undefined;
  const wsField = workspace === undefined ? undefined : new TextEncoder().encode(`,"ws":${JSON.stringify(workspace)},`);

  names.forEach((name, i) => {
    const path = joinPath(dir, name);
    const firstSeq = parseSegmentName(name)!;
    const isLast = i === names.length - 1;
    if (firstSeq !== expected) throw new LogCorrupted(path, expected, `segment starts at seq ${firstSeq}, expected ${expected}`);
    const data = storage.readFile(path) ?? new Uint8Array(0);
    const segment: Segment = { name, path, firstSeq, lastSeq: firstSeq - 1, bytes: 0, index: [] };
    let start = 0;
    while (start < data.length) {
      const end = data.indexOf(NEWLINE, start);
      if (end === -1) {
        if (!isLast) throw new LogCorrupted(path, expected, "segment ends in a partial line");
        torn = { file: path, offset: start, bytes: data.length - start };
        break;
      }
      const seq = expected;
      prevHash = fastLineCheck(data, start, end, seq, prevHash, wsField) ?? slowLineCheck(data, start, end, seq, prevHash, workspace, path);
      if (seq === firstSeq || seq - segment.index.at(-1)![0] >= INDEX_EVERY) segment.index.push([seq, start]);
      segment.lastSeq = seq;
      segment.bytes = end + 1;
      expected++;
      start = end + 1;
    }
    segments.push(segment);
  });
  return { segments, head: expected - 1, lastHash: prevHash, torn };
};

const OPEN_SEQ = Buffer.from('{"seq":');
const HASH_FIELD = Buffer.from(',"hash":"');
/** `,"ts":"` + 24 characters of ISO time + `"`: what the writer puts between seq and ws. */
const TS_FIELD_LENGTH = 32;
const CLOSE_BRACE = 0x7d;
const QUOTE = 0x22;
/** prev hash (64 bytes) + line body + `}`: the bytes a line's hash covers, assembled without strings. */
let scratch = new Uint8Array(64 * 1024);

/** Whether `data` holds `needle` at `at` (a plain loop: Buffer.compare's checks cost more for a few bytes). */
const bytesAt = (data: Uint8Array, at: number, needle: Uint8Array): boolean => {
  if (at + needle.length > data.length) return false;
  for (let i = 0; i < needle.length; i++) if (data[at + i] !== needle[i]) return false;
  return true;
};

/**
 * Checks a line as the writer lays it out, on its bytes, without decoding or parsing it: seq,
 * workspace and the chain hash. A line whose hash covers its bytes was written by the log, so it
 * is valid UTF-8 JSON with a type. Returns the line's hash, or undefined when anything differs from
 * that layout, so that the slow check can accept it or name what is wrong.
 */
const fastLineCheck = (
  data: Uint8Array, start: number, end: number, seq: number, prevHash: string, wsField: Uint8Array | undefined,
): string | undefined => {
  const bodyEnd = end - HASH_SUFFIX_LENGTH;
  if (bodyEnd <= start || !bytesAt(data, start, OPEN_SEQ) || !bytesAt(data, bodyEnd, HASH_FIELD)) return undefined;
  if (data[end - 2] !== QUOTE || data[end - 1] !== CLOSE_BRACE) return undefined;
  let p = start + OPEN_SEQ.length;
  let stored = 0;
  for (let c = data[p]!; c >= 0x30 && c <= 0x39; c = data[++p]!) stored = stored * 10 + (c - 0x30);
  if (stored !== seq || p === start + OPEN_SEQ.length) return undefined;
  if (wsField && !bytesAt(data, p + TS_FIELD_LENGTH, wsField)) return undefined;
  const bodyLength = bodyEnd - start;
  if (scratch.length < 65 + bodyLength) scratch = new Uint8Array(2 * (65 + bodyLength));
  for (let i = 0; i < 64; i++) scratch[i] = prevHash.charCodeAt(i);
  scratch.set(data.subarray(start, bodyEnd), 64);
  scratch[64 + bodyLength] = CLOSE_BRACE;
  const computed = digest("sha256", scratch.subarray(0, 65 + bodyLength), "hex");
  const claimed = end - 66;
  for (let i = 0; i < 64; i++) if (data[claimed + i] !== computed.charCodeAt(i)) return undefined;
  return computed;
};
/** Decodes and parses the line to accept it or to throw LogCorrupted saying what is wrong. */
const slowLineCheck = (
  data: Uint8Array, start: number, end: number, seq: number, prevHash: string, workspace: string | undefined, path: string,
): string => {
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
  if (typeof record.hash !== "string" || !lineHashMatches(line, prevHash, record.hash)) {
    throw fail("hash does not match the line and its predecessor");
  }
  return record.hash;
};
