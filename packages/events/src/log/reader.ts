import type { Envelope } from "../envelope.ts";
import type { Storage } from "../storage/storage.ts";
import { offsetFor, segmentFor, type Segment } from "./segments.ts";

const CHUNK = 1 << 20;
const NEWLINE = 10;
const decoder = new TextDecoder();

/** A stored line with its seq, for readers that need the exact bytes (mirror, restore). */
export interface RawLine {
  readonly seq: number;
  readonly line: string;
}

/**
 * Yields the stored lines with seq in [from, to], reading segments in 1 MiB chunks and never past
 * what each segment has committed. `segments` is read live, so a roll during iteration is seen.
 */
export function* readLines(storage: Storage, segments: readonly Segment[], from: number, to: number): Generator<RawLine> {
  if (segments.length === 0 || from > to) return;
  for (let i = segmentFor(segments, from); i < segments.length; i++) {
    const segment = segments[i]!;
    if (segment.firstSeq > to) return;
    let position = segment.firstSeq <= from ? offsetFor(segment, from) : 0;
    let carry = "";
    while (position < segment.bytes) {
      const chunk = storage.readRange(segment.path, position, Math.min(CHUNK, segment.bytes - position));
      if (chunk.length === 0) break;
      position += chunk.length;
      const lastNewline = chunk.lastIndexOf(NEWLINE);
      const text = carry + decoder.decode(chunk.subarray(0, lastNewline + 1));
      carry = decoder.decode(chunk.subarray(lastNewline + 1));
      let start = 0;
      for (let end = text.indexOf("\n"); end !== -1; end = text.indexOf("\n", start)) {
        const line = text.slice(start, end);
        start = end + 1;
        // seq is the first field: read it without parsing the whole line.
        const seq = Number(line.slice(7, line.indexOf(",", 7)));
        if (seq < from) continue;
        if (seq > to) return;
        yield { seq, line };
      }
    }
  }
}

/** Parses a stored line into its envelope. */
export const parseLine = (line: string): Envelope => JSON.parse(line) as Envelope;
