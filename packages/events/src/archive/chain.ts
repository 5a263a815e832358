import { hash } from "node:crypto";
import { GENESIS_HASH } from "../envelope.ts";
import { LogCorrupted } from "../errors.ts";
import { chainHash, HASH_SUFFIX_LENGTH, lineBody, lineHashMatches } from "../log/encode.ts";

const NEWLINE = 10;
const decoder = new TextDecoder("utf-8", { fatal: true });
const SEQ_OPEN = Buffer.from('{"seq":');
const HASH_OPEN = Buffer.from(',"hash":"');
/** prev hash + line body + `}`: what a line's hash covers, assembled in one reused buffer. */
let covered = Buffer.allocUnsafe(64 * 1024);

/**
 * The line's hash when its bytes are laid out as the writer lays them, carry `seq` and hash onto
 * `prevHash`; undefined otherwise, and the parsing check then accepts the line or names the fault.
 * No decoding or JSON.parse: a line whose hash covers its bytes was written by the log, so it is
 * valid UTF-8 JSON with a type.
 */
const writerLineHash = (bytes: Buffer, seq: number, prevHash: string): string | undefined => {
  const bodyEnd = bytes.length - HASH_SUFFIX_LENGTH;
  if (bodyEnd <= SEQ_OPEN.length || bytes.compare(SEQ_OPEN, 0, SEQ_OPEN.length, 0, SEQ_OPEN.length) !== 0) return undefined;
  if (bytes.compare(HASH_OPEN, 0, HASH_OPEN.length, bodyEnd, bodyEnd + HASH_OPEN.length) !== 0 || bytes.at(-2) !== 0x22 || bytes.at(-1) !== 0x7d) return undefined;
  let p = SEQ_OPEN.length;
  let stored = 0;
  for (let c = bytes[p]!; c >= 0x30 && c <= 0x39; c = bytes[++p]!) stored = stored * 10 + (c - 0x30);
  if (stored !== seq || bytes[p] !== 0x2c) return undefined;
  if (covered.length < 65 + bodyEnd) covered = Buffer.allocUnsafe(2 * (65 + bodyEnd));
  covered.write(prevHash, 0, 64, "latin1");
  bytes.copy(covered, 64, 0, bodyEnd);
  covered[64 + bodyEnd] = 0x7d;
  const computed = hash("sha256", covered.subarray(0, 65 + bodyEnd), "hex");
  return bytes.toString("latin1", bodyEnd + HASH_OPEN.length, bytes.length - 2) === computed ? computed : undefined;
};

/** What one segment's verifier learnt; its first line waits for its predecessor's last hash. */
export interface SegmentChain {
  readonly file: string;
  readonly firstSeq: number;
  readonly lastSeq: number;
  /** The first line's hashed body and claimed hash, checked by `linkSegments`. */
  readonly first: { readonly body: string; readonly hash: string } | undefined;
  readonly lastHash: string | undefined;
  /** Bytes after the last newline (a torn tail). */
  readonly tornBytes: number;
}

/**
 * The checks of `scanLog`, made on a segment's bytes as they stream by (while they are gzip'd or
 * gunzip'd; a line in the writer's layout without parsing it), so an archive reads its log once: every line valid UTF-8 JSON with a type, seq dense
 * from the segment's first, each hash covering its line and its predecessor's. The first line's
 * hash needs the previous segment's last hash, so it is kept for `linkSegments`.
 */
export class SegmentVerifier {
  private carry: Buffer | undefined;
  private expected: number;
  private prevHash: string | undefined;
  private first: SegmentChain["first"];

  constructor(
    readonly file: string,
    readonly firstSeq: number,
    readonly workspace?: string,
  ) {
    this.expected = firstSeq;
  }

  push(chunk: Buffer): void {
    const data = this.carry === undefined ? chunk : Buffer.concat([this.carry, chunk]);
    let start = 0;
    for (;;) {
      const end = data.indexOf(NEWLINE, start);
      if (end === -1) break;
      this.line(data.subarray(start, end));
      start = end + 1;
    }
    this.carry = start === data.length ? undefined : Buffer.from(data.subarray(start));
  }

  private line(bytes: Buffer): void {
    const seq = this.expected;
    const fast = this.prevHash === undefined || this.workspace !== undefined ? undefined : writerLineHash(bytes, seq, this.prevHash);
    if (fast !== undefined) {
      this.prevHash = fast;
      this.expected++;
      return;
    }
    const fail = (reason: string) => new LogCorrupted(this.file, seq, reason);
    let line: string;
    let record: { seq?: unknown; ws?: unknown; hash?: unknown; type?: unknown };
    try {
      line = decoder.decode(bytes);
      record = JSON.parse(line);
    } catch {
      throw fail("line is not valid UTF-8 JSON");
    }
    if (record.seq !== seq) throw fail(`line carries seq ${String(record.seq)}, expected ${seq}`);
    if (this.workspace !== undefined && record.ws !== this.workspace) throw fail(`line belongs to workspace ${String(record.ws)}`);
    if (typeof record.type !== "string") throw fail("line has no type");
    if (typeof record.hash !== "string") throw fail("hash does not match the line and its predecessor");
    if (this.prevHash === undefined) {
      if (line.length <= 75) throw fail("hash does not match the line and its predecessor");
      this.first = { body: lineBody(line), hash: record.hash };
    } else if (!lineHashMatches(line, this.prevHash, record.hash)) {
      throw fail("hash does not match the line and its predecessor");
    }
    this.prevHash = record.hash;
    this.expected++;
  }

  end(): SegmentChain {
    return { file: this.file, firstSeq: this.firstSeq, lastSeq: this.expected - 1, first: this.first, lastHash: this.prevHash, tornBytes: this.carry?.length ?? 0 };
  }
}

/**
 * Joins verified segments (in log order) into one chain: each starts at the seq after its
 * predecessor's last, its first line hashes onto that one's last hash, and only the last may be
 * torn. Returns the head and last hash, as `scanLog` would.
 */
export const linkSegments = (segments: readonly SegmentChain[]): { head: number; lastHash: string; torn: SegmentChain | undefined } => {
  let expected = 1;
  let prevHash = GENESIS_HASH;
  let torn: SegmentChain | undefined;
  segments.forEach((s, i) => {
    if (s.firstSeq !== expected) throw new LogCorrupted(s.file, expected, `segment starts at seq ${s.firstSeq}, expected ${expected}`);
    if (s.tornBytes > 0) {
      if (i !== segments.length - 1) throw new LogCorrupted(s.file, s.lastSeq + 1, "segment ends in a partial line");
      torn = s;
    }
    if (s.first !== undefined) {
      if (chainHash(prevHash, s.first.body) !== s.first.hash) throw new LogCorrupted(s.file, s.firstSeq, "hash does not match the line and its predecessor");
      prevHash = s.lastHash!;
    }
    expected = s.lastSeq + 1;
  });
  return { head: expected - 1, lastHash: prevHash, torn };
};
