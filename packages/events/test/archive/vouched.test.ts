import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  hibernateFolder, latestArchive, LogCorrupted, localStoreDriver, makeObjectStore, nodeStorage, openLog, resumeFolder, scanLog, seededRandom,
  VirtualClock, type VerifiedLog, type WorkspaceLocation,
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
