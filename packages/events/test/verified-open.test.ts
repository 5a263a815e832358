import { createHash } from "node:crypto";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { LogCorrupted, VirtualClock, nodeStorage, openLog, scanLog, seededRandom, type VerifiedLog } from "../src/index.ts";
import { note, tempDir, testCatalogue } from "./helpers.ts";

const open = (dir: string, verified?: VerifiedLog) =>
  openLog(dir, { workspace: "ws_test", catalogue: testCatalogue, clock: new VirtualClock(), random: seededRandom(1), segmentBytes: 2048, ...(verified ? { verified } : {}) });

/** A log of `n` notes in several segments; its folder. */
const makeLog = async (n: number): Promise<string> => {
  const dir = tempDir();
  const log = await open(dir);
  for (let i = 0; i < n; i++) await log.append([note(`note ${i}`)]);
  await log.close();
  return dir;
};

/** What a verifier that read the files as they are now would vouch for. */
const hintOf = (dir: string, workspace = "ws_test"): VerifiedLog => {
  const logDir = join(dir, "log");
  let lastHash = "";
  const segments = readdirSync(logDir).filter((n) => n.endsWith(".jsonl")).sort().map((name) => {
    const bytes = readFileSync(join(logDir, name));
    const lines = bytes.toString("utf8").split("\n").filter((l) => l !== "");
    if (lines.length > 0) lastHash = (JSON.parse(lines.at(-1)!) as { hash: string }).hash;
    return { name, bytes: bytes.length, sha256: createHash("sha256").update(bytes).digest("hex"), lastSeq: Number(name.slice(0, 16)) + lines.length - 1, lastHash };
  });
  return { workspace, segments };
};

/** Flips a byte inside the text of note `i` (a JSON string: still valid JSON, wrong hash). */
const flipNote = (dir: string, i: number) => {
  for (const name of readdirSync(join(dir, "log")).filter((n) => n.endsWith(".jsonl"))) {
    const file = join(dir, "log", name);
    const data = readFileSync(file);
    const at = data.indexOf(`"note ${i}"`);
    if (at === -1) continue;
    data[at + 2] = "N".charCodeAt(0);
    writeFileSync(file, data);
    return;
  }
  throw new Error(`note ${i} not found`);
};

describe("opening a log with what a restore verified", () => {
  it("gives what the full check gives: head, hash, segments and their index, reads", async () => {
    const dir = await makeLog(300);
    const full = scanLog(nodeStorage(), join(dir, "log"), "ws_test");
    expect(full.segments.length).toBeGreaterThan(3);
    expect(full.vouched).toBe(0);
    expect(scanLog(nodeStorage(), join(dir, "log"), "ws_test", hintOf(dir))).toEqual({ ...full, vouched: 300 });
    const log = await open(dir, hintOf(dir));
    expect(log.head()).toBe(300);
    expect(log.recovery.vouched).toBe(300);
    expect([...log.read({ from: 137, to: 139 })].map((e) => e.payload)).toEqual([{ text: "note 136" }, { text: "note 137" }, { text: "note 138" }]);
    await log.append([note("after")]);
    await log.close();
    await expect(open(dir).then((l) => l.close())).resolves.toBeUndefined();
  });

  it("trusts the lines it vouches for, byte for byte (what a matching hint skips)", async () => {
    const dir = await makeLog(100);
    flipNote(dir, 40);
    expect(() => scanLog(nodeStorage(), join(dir, "log"), "ws_test")).toThrow(LogCorrupted);
    // A hint made from these very bytes is the producer's word that they are a valid chain.
    expect(scanLog(nodeStorage(), join(dir, "log"), "ws_test", hintOf(dir))).toMatchObject({ head: 100, vouched: 100 });
  });

  it("checks everything when a flipped byte makes the files differ from the hint", async () => {
    const dir = await makeLog(100);
    const hint = hintOf(dir);
    flipNote(dir, 40);
    await expect(open(dir, hint)).rejects.toBeInstanceOf(LogCorrupted);
  });

  it("falls back to the full check on any other mismatch, and that check still catches a flip", async () => {
    const dir = await makeLog(100);
    const good = hintOf(dir);
    const first = good.segments[0]!;
    const bad: Array<[string, VerifiedLog]> = [
      ["a size", { ...good, segments: [{ ...first, bytes: first.bytes - 1 }, ...good.segments.slice(1)] }],
      ["a line count", { ...good, segments: [{ ...first, lastSeq: first.lastSeq + 1 }, ...good.segments.slice(1)] }],
      ["a last hash", { ...good, segments: [{ ...first, lastHash: good.segments[1]!.lastHash }, ...good.segments.slice(1)] }],
      ["a name", { ...good, segments: [{ ...first, name: "0000000000000002.jsonl" }, ...good.segments.slice(1)] }],
      ["the workspace", { ...good, workspace: "ws_other" }],
      ["more segments than there are", { ...good, segments: [...good.segments, good.segments.at(-1)!] }],
    ];
    const full = scanLog(nodeStorage(), join(dir, "log"), "ws_test");
    for (const [what, hint] of bad) expect(scanLog(nodeStorage(), join(dir, "log"), "ws_test", hint), what).toEqual(full);
    // Each of those hints, had it been taken, would have let the flip through: rejected, it cannot.
    flipNote(dir, 3);
    for (const [what, hint] of bad) {
      const vouched = { ...hint, segments: hint.segments.map((s, i) => (i === 0 ? { ...s, sha256: hintOf(dir).segments[0]!.sha256 } : s)) };
      expect(() => scanLog(nodeStorage(), join(dir, "log"), "ws_test", vouched), what).toThrow(LogCorrupted);
    }
  });

  it("checks the lines appended after what it vouches for", async () => {
    const dir = await makeLog(10);
    const hint = hintOf(dir);
    const log = await open(dir);
    for (let i = 10; i < 20; i++) await log.append([note(`note ${i}`)]);
    await log.close();
    const full = scanLog(nodeStorage(), join(dir, "log"), "ws_test");
    expect(scanLog(nodeStorage(), join(dir, "log"), "ws_test", hint)).toEqual({ ...full, vouched: 10 });
    flipNote(dir, 15);
    await expect(open(dir, hint)).rejects.toMatchObject({ _tag: "LogCorrupted", seq: 16 });
  });
});

describe("what a closed log vouches for", () => {
  it("is every segment as the files hold it, after a full check, a hinted open, a roll and a repaired torn tail", async () => {
    const dir = await makeLog(120);
    const log = await open(dir);
    for (let i = 120; i < 200; i++) await log.append([note(`note ${i}`)]);
    expect(log.vouch()).toBeUndefined();
    await log.close();
    expect(log.vouch()).toEqual(hintOf(dir));
    expect(log.vouch()!.segments.length).toBeGreaterThan(3);

    const hinted = await open(dir, log.vouch());
    expect(hinted.recovery.vouched).toBe(200);
    await hinted.append([note("after a hinted open")]);
    await hinted.close();
    expect(hinted.vouch()).toEqual(hintOf(dir));

    const last = join(dir, "log", readdirSync(join(dir, "log")).filter((n) => n.endsWith(".jsonl")).sort().at(-1)!);
    writeFileSync(last, Buffer.concat([readFileSync(last), Buffer.from('{"seq":202,"ts"')]));
    const repaired = await open(dir);
    expect(repaired.recovery.truncated).toBeDefined();
    await repaired.close();
    expect(repaired.vouch()).toEqual(hintOf(dir));
  });

  it("vouches for the bytes it checked, not for what the files hold after it closed", async () => {
    const dir = await makeLog(100);
    const log = await open(dir);
    await log.close();
    const vouched = log.vouch()!;
    flipNote(dir, 40);
    expect(vouched).not.toEqual(hintOf(dir));
    await expect(open(dir, vouched)).rejects.toMatchObject({ _tag: "LogCorrupted", seq: 41 });
  });
});
