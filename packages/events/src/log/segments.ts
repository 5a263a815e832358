import { joinPath } from "../storage/storage.ts";

/** Segment files are named by their first seq, zero-padded so that names sort in seq order. */
export const segmentName = (firstSeq: number): string => `${String(firstSeq).padStart(16, "0")}.jsonl`;

const SEGMENT_PATTERN = /^(\d{16})\.jsonl$/;

/** The first seq a segment file name declares, or undefined for files that are not segments. */
export const parseSegmentName = (name: string): number | undefined => {
  const match = SEGMENT_PATTERN.exec(name);
  return match ? Number(match[1]) : undefined;
};

/** What the log knows about one segment file. */
export interface Segment {
  readonly name: string;
  readonly path: string;
  readonly firstSeq: number;
  lastSeq: number;
  /** Bytes of whole, verified (and, for the active segment, committed) lines. */
  bytes: number;
  /** Sparse index: [seq, byte offset of its line], every INDEX_EVERY lines. */
  readonly index: Array<[number, number]>;
}

export const INDEX_EVERY = 256;

export const logDir = (workspaceDir: string): string => joinPath(workspaceDir, "log");

/** Byte offset from which to start reading a segment to reach `seq`. */
export const offsetFor = (segment: Segment, seq: number): number => {
  let lo = 0;
  let hi = segment.index.length - 1;
  let best = 0;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const [s, offset] = segment.index[mid]!;
    if (s <= seq) {
      best = offset;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return best;
};

/** The segment holding `seq` (the last whose first seq is ≤ it). */
export const segmentFor = (segments: readonly Segment[], seq: number): number => {
  let lo = 0;
  let hi = segments.length - 1;
  let found = 0;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (segments[mid]!.firstSeq <= seq) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
};
