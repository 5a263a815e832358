import { GENESIS_HASH } from "../envelope.ts";
import { lineHashMatches } from "./encode.ts";
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
      if (seq === firstSeq || seq - segment.index.at(-1)![0] >= INDEX_EVERY) segment.index.push([seq, start]);
      prevHash = record.hash;
      segment.lastSeq = seq;
      segment.bytes = end + 1;
      expected++;
      start = end + 1;
    }
    segments.push(segment);
  });
  return { segments, head: expected - 1, lastHash: prevHash, torn };
};
