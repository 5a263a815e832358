import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  hibernateFolder, latestArchive, LogCorrupted, objectStoreClient, readManifest, writeArchive, workspacePrefix, localStoreDriver, makeObjectStore, nodeStorage, openLog, resumeFolder, scanLog, seededRandom,
  VirtualClock, type Storage, type VerifiedLog, type WorkspaceLocation,
} from "../../src/index.ts";
import { note, tempDir, testCatalogue } from "../helpers.ts";
import { folderBytes, freshLocation } from "./fixture.ts";

const clock = new VirtualClock(Date.parse("2026-02-01T02:00:00Z"));
const EVENTS = 400;

/** A workspace folder whose log (several segments) was written and closed here; what it vouched for. */
const closedWorkspace = async (location: WorkspaceLocation, seed = 3): Promise<{ dir: string; vouched: VerifiedLog }> => {
  const dir = join(tempDir(), "ws");
  const log = await openLog(dir, { workspace: location.workspace, catalogue: testCatalogue, clock, random: seededRandom(seed), segmentBytes: 8 * 1024, fsync: "none" });
  for (let i = 0; i < EVENTS; i += 50) await log.append(Array.from({ length: 50 }, (_, j) => note(`event ${i + j}`)));
  await log.close();
  writeFileSync(join(dir, "manifest.json"), JSON.stringify({ id: location.workspace }));
  return { dir, vouched: log.vouch()! };
};

const storeAt = () => makeObjectStore(localStoreDriver(join(tempDir(), "primary")), { baseDelayMs: 1, attempts: 2 });

/** Hibernates `dir` with `verifiedLog`, resumes it and checks it came back byte for byte; the lines vouched. */
const roundTrip = async (dir: string, location: WorkspaceLocation, verifiedLog: VerifiedLog | undefined): Promise<number> => {
  const before = folderBytes(dir);
  const primary = storeAt();
  const { vouched } = await hibernateFolder({ workspaceDir: dir, location, primary, clock, verifiedLog });
  await resumeFolder({ targetDir: dir, location, primary, holder: "host" });
  const after = folderBytes(dir);
  expect([...after.keys()]).toEqual([...before.keys()]);
  for (const [path, bytes] of before) expect(after.get(path)!.equals(bytes), path).toBe(true);
  return vouched;
};

describe("hibernating with what the closed log vouched for", () => {
  it("does not check the chain of segments it vouched for, and the archive restores and verifies", async () => {
    const location = freshLocation();
    const { dir, vouched } = await closedWorkspace(location);
    expect(vouched.segments.length).toBeGreaterThan(3);
    expect(await roundTrip(dir, location, vouched)).toBe(EVENTS);
    expect(scanLog(nodeStorage(), join(dir, "log"), location.workspace).head).toBe(EVENTS);
  });

  it("checks every line without a hint, or with one from another workspace's log", async () => {
    const location = freshLocation();
    const { dir } = await closedWorkspace(location);
    expect(await roundTrip(dir, location, undefined)).toBe(0);
    const other = await closedWorkspace(freshLocation(), 4);
    expect(await roundTrip(dir, location, other.vouched)).toBe(0);
    // Even naming this log's very bytes, a hint that says another workspace is ignored.
    const own = await closedWorkspace(location, 5);
    expect(await roundTrip(own.dir, location, { ...own.vouched, workspace: "ws_elsewhere" })).toBe(0);
  });

  it("checks a segment that changed after the log closed: lines appended are accepted, a flipped byte refused", async () => {
    const location = freshLocation();
    const { dir, vouched } = await closedWorkspace(location);
    const log = await openLog(dir, { workspace: location.workspace, catalogue: testCatalogue, clock, random: seededRandom(9), segmentBytes: 1 << 20, fsync: "none" });
    await log.append([note("after the hint")]);
    await log.close();
    // Every segment but the last (which grew: read again and checked) is taken on the hint's word.
    expect(await roundTrip(dir, location, vouched)).toBe(vouched.segments.at(-2)!.lastSeq);

    const flipped = await closedWorkspace(freshLocation());
    const segment = join(flipped.dir, "log", readdirSync(join(flipped.dir, "log")).filter((n) => n.endsWith(".jsonl")).sort()[1]!);
    const bytes = readFileSync(segment);
    const at = bytes.indexOf('"event ', bytes.length >> 1) + 3;
    bytes[at]! ^= 0x01;
    writeFileSync(segment, bytes);
    const primary = storeAt();
    const location2 = { ...location, workspace: flipped.vouched.workspace };
    const error = await hibernateFolder({ workspaceDir: flipped.dir, location: location2, primary, clock, verifiedLog: flipped.vouched }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LogCorrupted);
    expect(await latestArchive(primary, location2)).toBeUndefined();
    expect(existsSync(flipped.dir)).toBe(true);
  });
});

describe("hibernating again with segments the newest archive already stores", () => {
  /** A workspace hibernated once, resumed, grown by a few events and closed: its segment files and what it vouched for. */
  const rehibernating = async () => {
    const location = freshLocation();
    const { dir, vouched } = await closedWorkspace(location);
    const primary = storeAt();
    const first = await writeArchive({ store: primary, location, workspaceDir: dir, clock, verified: vouched });
    const log = await openLog(dir, { workspace: location.workspace, catalogue: testCatalogue, clock, random: seededRandom(9), segmentBytes: 8 * 1024, fsync: "none" });
    await log.append([note("after the first hibernation")]);
    await log.close();
    const segments = readdirSync(join(dir, "log")).filter((n) => n.endsWith(".jsonl")).sort();
    return { location, dir, primary, first, vouched: log.vouch()!, segments, logBytes: folderBytes(join(dir, "log")) };
  };

  it("takes each unchanged sealed segment's stored part without reading its file", async () => {
    const s = await rehibernating();
    // A sealed segment damaged on disk after the log vouched for it (same size): were it read,
    // the archive would refuse it; taken from the store, the archive holds the acknowledged bytes.
    const sealed = join(s.dir, "log", s.segments[1]!);
    const damaged = readFileSync(sealed);
    damaged[damaged.indexOf('"event ', damaged.length >> 1) + 3]! ^= 0x01;
    writeFileSync(sealed, damaged);
    clock.advance(60_000);
    const second = await writeArchive({ store: s.primary, location: s.location, workspaceDir: s.dir, clock, verified: s.vouched });
    const segmentParts = (parts: typeof second.manifest.parts) => parts.filter((p) => p.kind === "segment");
    const firstParts = new Map(segmentParts(s.first.manifest.parts).map((p) => [p.path, p]));
    const unchanged = segmentParts(second.manifest.parts).filter((p) => JSON.stringify(firstParts.get(p.path)) === JSON.stringify(p));
    // Every segment but the last (which grew) is the first archive's part, as it was.
    expect(unchanged.map((p) => p.path)).toEqual(s.segments.slice(0, -1).map((n) => `log/${n}`));
    expect(second.reused).toBeGreaterThanOrEqual(unchanged.length);
    expect(second.vouched).toBe(EVENTS + 1);

    const back = join(tempDir(), "back");
    await resumeFolder({ targetDir: back, location: s.location, primary: s.primary, holder: "host" });
    const restored = folderBytes(join(back, "log"));
    expect([...restored.keys()]).toEqual([...s.logBytes.keys()]);
    for (const [path, bytes] of s.logBytes) expect(restored.get(path)!.equals(bytes), path).toBe(true);
  });

  it("reads and compresses the file again when the store lost the part or the file no longer has the vouched size", async () => {
    const s = await rehibernating();
    const manifest = await readManifest(s.primary, s.location, s.first.archiveId);
    const lost = manifest.parts.find((p) => p.path === `log/${s.segments[0]}`)!;
    await objectStoreClient(s.primary).delete(workspacePrefix(s.location) + lost.key);
    // A sealed segment with bytes added after the log closed is not the vouched one.
    const grown = join(s.dir, "log", s.segments[1]!);
    writeFileSync(grown, Buffer.concat([readFileSync(grown), Buffer.from("not a line")]));
    clock.advance(60_000);
    const error = await writeArchive({ store: s.primary, location: s.location, workspaceDir: s.dir, clock, verified: s.vouched }).catch((e: unknown) => e);
    // Read, it ends in a torn line in the middle of the log: refused, nothing committed.
    expect(String(error)).toMatch(/torn|changed|corrupt/i);
    expect(await latestArchive(s.primary, s.location)).toBe(s.first.archiveId);

    writeFileSync(grown, s.logBytes.get(s.segments[1]!)!);
    const second = await writeArchive({ store: s.primary, location: s.location, workspaceDir: s.dir, clock, verified: s.vouched });
    expect(second.manifest.parts.find((p) => p.path === `log/${s.segments[0]}`)!.key).toBe(lost.key);
    const back = join(tempDir(), "back");
    await resumeFolder({ targetDir: back, location: s.location, primary: s.primary, holder: "host" });
    for (const [path, bytes] of s.logBytes) expect(readFileSync(join(back, "log", path)).equals(bytes), path).toBe(true);
  });
});

/** Node's storage, counting the reads of each file. */
const countingStorage = () => {
  const inner = nodeStorage();
  const reads = new Map<string, number>();
  const count = (path: string) => void reads.set(path, (reads.get(path) ?? 0) + 1);
  const storage: Storage = {
    ...inner,
    readFile: (path) => (count(path), inner.readFile(path)),
    readRange: (path, position, length) => (count(path), inner.readRange(path, position, length)),
  };
  return { storage, segmentReads: () => [...reads].filter(([path]) => path.endsWith(".jsonl")).reduce((n, [, c]) => n + c, 0) };
};

const sha256Of = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");

describe("opening a restored log on the restore's word", () => {
  const restored = async () => {
    const location = freshLocation();
    const { dir } = await closedWorkspace(location);
    const primary = storeAt();
    await hibernateFolder({ workspaceDir: dir, location, primary, clock });
    const { verifiedLog } = await resumeFolder({ targetDir: dir, location, primary, holder: "host" });
    const segments = readdirSync(join(dir, "log")).filter((n) => n.endsWith(".jsonl")).sort().map((n) => join(dir, "log", n));
    return { location, dir, verifiedLog: verifiedLog!, segments };
  };

  it("reads no segment the restore wrote, indexes them as a full scan would, and vouches for them after appends", async () => {
    const { location, dir, verifiedLog, segments } = await restored();
    expect(segments.length).toBeGreaterThan(3);
    const { storage, segmentReads } = countingStorage();
    const scanned = scanLog(storage, join(dir, "log"), location.workspace, verifiedLog, true);
    expect(segmentReads()).toBe(0);
    const full = scanLog(nodeStorage(), join(dir, "log"), location.workspace);
    expect({ ...scanned, digests: undefined }).toEqual({ ...full, digests: undefined, vouched: EVENTS });

    // The restore's running sha256 goes on in the log: what it vouches for at close is the file's sha256.
    const log = await openLog(dir, { workspace: location.workspace, catalogue: testCatalogue, clock, random: seededRandom(9), segmentBytes: 1 << 20, fsync: "none", verified: verifiedLog });
    expect(log.recovery.vouched).toBe(EVENTS);
    await log.append([note("after the restore")]);
    await log.close();
    const vouched = log.vouch()!;
    expect(vouched.segments.map((v) => v.sha256)).toEqual(segments.map(sha256Of));
    expect(vouched.segments.at(-1)!.lastSeq).toBe(EVENTS + 1);
  });

  it("reads and checks a segment that changed after the restore, and refuses one whose bytes changed", async () => {
    const grown = await restored();
    const last = grown.segments.at(-1)!;
    const { storage, segmentReads } = countingStorage();
    // Rewritten with its very bytes: the stamp changed, so the file is read, and its sha256 still matches.
    writeFileSync(last, readFileSync(last));
    expect(scanLog(storage, join(grown.dir, "log"), grown.location.workspace, grown.verifiedLog).vouched).toBe(EVENTS);
    expect(segmentReads()).toBe(1);

    // A malformed index in an unchanged file's hint is not sought by: the file is read and indexed.
    const malformed = await restored();
    const segments = malformed.verifiedLog.segments.map((segment, i) =>
      i === 1 ? { ...segment, written: { ...segment.written!, index: [...segment.written!.index, [segment.lastSeq, 0] as const] } } : segment);
    const counted = countingStorage();
    const dir = join(malformed.dir, "log");
    // Read, its bytes still match the hint's sha256: taken, and indexed as a full scan would.
    expect(scanLog(counted.storage, dir, malformed.location.workspace, { ...malformed.verifiedLog, segments })).toEqual({ ...scanLog(nodeStorage(), dir, malformed.location.workspace), vouched: EVENTS });
    expect(counted.segmentReads()).toBe(1);

    const flipped = await restored();
    const bytes = readFileSync(flipped.segments[1]!);
    bytes[bytes.indexOf('"event ', bytes.length >> 1) + 3]! ^= 0x01;
    writeFileSync(flipped.segments[1]!, bytes);
    expect(() => scanLog(nodeStorage(), join(flipped.dir, "log"), flipped.location.workspace, flipped.verifiedLog)).toThrow(LogCorrupted);
  });
});
