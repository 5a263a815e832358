import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { LogCorrupted, nodeStorage, scanLog, seededRandom } from "../../src/index.ts";
import { linkSegments, SegmentVerifier } from "../../src/archive/chain.ts";
import { tempDir } from "../helpers.ts";
import { freshLocation, makeWorkspace } from "./fixture.ts";

/** Feeds every segment of a log to verifiers in random chunk sizes, as the gzip streams do. */
const verifyChunked = (logDir: string, seed: number, edit?: (name: string, bytes: Buffer) => Buffer) => {
  const random = seededRandom(seed);
  const names = readdirSync(logDir).filter((n) => n.endsWith(".jsonl")).sort();
  return linkSegments(names.map((name) => {
    let bytes: Buffer = readFileSync(join(logDir, name));
    if (edit) bytes = edit(name, bytes);
    const v = new SegmentVerifier(name, Number(name.slice(0, 16)));
    for (let at = 0; at < bytes.length;) {
      const n = 1 + (random.nextUint32() % 5000);
      v.push(bytes.subarray(at, at + n));
      at += n;
    }
    return v.end();
  }));
};

describe("the streamed chain check", () => {
  it("agrees with scanLog on a log in several segments, whatever the chunking", async () => {
    const dir = join(tempDir(), "ws");
    const { db } = await makeWorkspace(dir, freshLocation(), 1_500);
    db.close();
    const scan = scanLog(nodeStorage(), join(dir, "log"));
    expect(scan.segments.length).toBeGreaterThan(2);
    for (const seed of [1, 2, 3]) {
      const linked = verifyChunked(join(dir, "log"), seed);
      expect({ head: linked.head, lastHash: linked.lastHash, torn: linked.torn }).toEqual({ head: scan.head, lastHash: scan.lastHash, torn: undefined });
    }
    // A changed byte inside a line, the first line of a later segment, or a dropped segment: refused.
    const names = readdirSync(join(dir, "log")).filter((n) => n.endsWith(".jsonl")).sort();
    const flip = (target: string, at: (b: Buffer) => number) => (name: string, bytes: Buffer) => {
      if (name !== target) return bytes;
      const copy = Buffer.from(bytes);
      copy[at(copy)] = copy[at(copy)] === 0x61 ? 0x62 : 0x61;
      return copy;
    };
    const firstText = (b: Buffer) => b.indexOf("event") + 1;
    expect(() => verifyChunked(join(dir, "log"), 4, flip(names[1]!, firstText))).toThrow(LogCorrupted);
    expect(() => verifyChunked(join(dir, "log"), 4, flip(names[2]!, (b) => b.indexOf("event", b.length >> 1) + 1))).toThrow(LogCorrupted);
    expect(() => verifyChunked(join(dir, "log"), 4, (name, bytes) => (name === names[1] ? Buffer.alloc(0) : bytes))).toThrow(LogCorrupted);
    const torn = verifyChunked(join(dir, "log"), 5, (name, bytes) => (name === names.at(-1) ? bytes.subarray(0, bytes.length - 3) : bytes));
    expect(torn.torn).toBeDefined();
  });

  it("links a segment taken on a closed log's word only onto the hash it was vouched to follow", async () => {
    const dir = join(tempDir(), "ws");
    (await makeWorkspace(dir, freshLocation(), 1_500)).db.close();
    const names = readdirSync(join(dir, "log")).filter((n) => n.endsWith(".jsonl")).sort();
    const ends = names.map((name) => {
      const v = new SegmentVerifier(name, Number(name.slice(0, 16)));
      v.push(readFileSync(join(dir, "log", name)));
      return v.end();
    });
    const vouched = (after: string) => [ends[0]!, { ...ends[1]!, first: undefined, after }, ...ends.slice(2)];
    expect(linkSegments(vouched(ends[0]!.lastHash!)).lastHash).toBe(scanLog(nodeStorage(), join(dir, "log")).lastHash);
    expect(() => linkSegments(vouched(ends[1]!.lastHash!))).toThrow(LogCorrupted);
  });
});
