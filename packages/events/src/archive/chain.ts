import { isAscii } from "node:buffer";
import { GENESIS_HASH } from "../envelope.ts";
import { LogCorrupted } from "../errors.ts";
import { chainHash, lineBody } from "../log/encode.ts";
import { INDEX_EVERY } from "../log/segments.ts";
import { slowLineCheck, workspaceField, writerLineHash } from "../log/verify.ts";

const NEWLINE = 10;

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
  /** The workspace its lines carry (each checked against it), when it has any. */
  readonly workspace: string | undefined;
  /** Taken on a `VerifiedLog`'s word, not checked: the hash its first line chains onto, as vouched. */
  readonly after?: string;
}

/**
 * The checks of `scanLog` (its very line check, `writerLineHash`, with its parsing fallback), made
 * on a segment's bytes as they stream by (while they are gzip'd or gunzip'd), so an archive reads
 * its log once: every line valid UTF-8 JSON with a type, seq dense from the segment's first, each
 * hash covering its line and its predecessor's, and one workspace throughout (the one given, else
 * the first line's). The first line's hash needs the previous segment's last hash, so it is kept
 * for `linkSegments`.
 */
export class SegmentVerifier {
  private carry: Buffer | undefined;
  private expected: number;
  private prevHash: string | undefined;
  private first: SegmentChain["first"];
  private workspace: string | undefined;
  private wsField: Uint8Array | undefined;
  /** Bytes of the chunks pushed before the current one, and where the next line starts. */
  private consumed = 0;
  private lineStart = 0;
  /** As `Segment.index`: [seq, byte offset of its line], every INDEX_EVERY lines. */
  readonly index: Array<[number, number]> = [];

  constructor(
    readonly file: string,
    readonly firstSeq: number,
    workspace?: string,
  ) {
    this.expected = firstSeq;
    this.workspace = workspace;
    this.wsField = workspaceField(workspace);
  }

  push(chunk: Buffer): void {
    let start = 0;
    const base = this.consumed;
    this.consumed += chunk.length;
    if (this.carry !== undefined) {
      // Only the line split across chunks is joined; the rest is checked where it lies.
      const end = chunk.indexOf(NEWLINE);
      if (end === -1) {
        this.carry = Buffer.concat([this.carry, chunk]);
        return;
      }
      const joined = Buffer.concat([this.carry, chunk.subarray(0, end)]);
      this.carry = undefined;
      this.line(joined, 0, joined.length, isAscii(joined));
      start = end + 1;
      this.lineStart = base + start;
    }
    const ascii = isAscii(chunk.subarray(start));
    for (;;) {
      const end = chunk.indexOf(NEWLINE, start);
      if (end === -1) break;
      this.line(chunk, start, end, ascii);
      start = end + 1;
      this.lineStart = base + start;
    }
    if (start < chunk.length) this.carry = Buffer.from(chunk.subarray(start));
  }

  private line(data: Buffer, start: number, end: number, ascii: boolean): void {
    const seq = this.expected;
    if (seq === this.firstSeq || seq - this.index.at(-1)![0] >= INDEX_EVERY) this.index.push([seq, this.lineStart]);
    if (this.prevHash === undefined) {
      const { line, hash, ws } = slowLineCheck(data, start, end, seq, undefined, this.workspace, this.file);
      this.first = { body: lineBody(line), hash };
      if (this.workspace === undefined) {
        if (typeof ws !== "string") throw new LogCorrupted(this.file, seq, "line names no workspace");
        this.workspace = ws;
        this.wsField = workspaceField(ws);
      }
      this.prevHash = hash;
    } else {
      this.prevHash = writerLineHash(data, start, end, seq, this.prevHash, this.wsField, ascii) ?? slowLineCheck(data, start, end, seq, this.prevHash, this.workspace, this.file).hash;
    }
    this.expected++;
  }

  end(): SegmentChain {
    return {
      file: this.file, firstSeq: this.firstSeq, lastSeq: this.expected - 1, first: this.first, lastHash: this.prevHash,
      tornBytes: this.carry?.length ?? 0, workspace: this.workspace,
    };
  }
}

/**
 * Joins verified segments (in log order) into one chain: each starts at the seq after its
 * predecessor's last, its first line hashes onto that one's last hash (a vouched one: was vouched
 * to), and only the last may be torn, and all carry the same workspace. Returns the head and
 * last hash, as `scanLog` would, and the workspace (undefined for a log without lines).
 */
export const linkSegments = (segments: readonly SegmentChain[]): { head: number; lastHash: string; torn: SegmentChain | undefined; workspace: string | undefined } => {
  let expected = 1;
  let prevHash = GENESIS_HASH;
  let torn: SegmentChain | undefined;
  let workspace: string | undefined;
  segments.forEach((s, i) => {
    if (s.workspace !== undefined) {
      workspace ??= s.workspace;
      if (s.workspace !== workspace) throw new LogCorrupted(s.file, s.firstSeq, `line belongs to workspace ${s.workspace}`);
    }
    if (s.firstSeq !== expected) throw new LogCorrupted(s.file, expected, `segment starts at seq ${s.firstSeq}, expected ${expected}`);
    if (s.tornBytes > 0) {
      if (i !== segments.length - 1) throw new LogCorrupted(s.file, s.lastSeq + 1, "segment ends in a partial line");
      torn = s;
    }
    if (s.after !== undefined || s.first !== undefined) {
      const links = s.after !== undefined ? s.after === prevHash : chainHash(prevHash, s.first!.body) === s.first!.hash;
      if (!links) throw new LogCorrupted(s.file, s.firstSeq, "hash does not match the line and its predecessor");
      prevHash = s.lastHash!;
    }
    expected = s.lastSeq + 1;
  });
  return { head: expected - 1, lastHash: prevHash, torn, workspace };
};
