import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Schema } from "effect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defineEvent, makeCatalogue, openLog } from "@atelier/events";

const run = promisify(execFile);
const bin = join(import.meta.dirname, "../../../node_modules/.bin/atelier");

/** Runs the real `atelier` binary and returns its exit code and output. */
const atelier = async (...args: string[]) => {
  try {
    const { stdout, stderr } = await run(bin, args);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
};

const catalogue = makeCatalogue(defineEvent("note.added", { payload: Schema.Struct({ text: Schema.String }) }));
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "atelier-cli-"));
  writeFileSync(join(dir, "manifest.json"), JSON.stringify({ id: "ws_cli" }));
  const log = await openLog(dir, { workspace: "ws_cli", catalogue, segmentBytes: 4096 });
  for (let i = 1; i <= 120; i++) await log.append([{ type: "note.added", entity: "note", payload: { text: `note ${i}` } }]);
  await log.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("atelier log", () => {
  it("verify prints the event count and last seq of a good log", async () => {
    const result = await atelier("log", "verify", dir);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^ok: 120 events, last seq 120, \d+ segment\(s\)/);
  });

  it("cat prints the stored lines from --from", async () => {
    const result = await atelier("log", "cat", dir, "--from", "118");
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split("\n").map((l) => JSON.parse(l));
    expect(lines.map((l) => l.seq)).toEqual([118, 119, 120]);
    expect(lines[0].payload).toEqual({ text: "note 118" });
  });

  it("rejects bad arguments with the usage and exit code 2", async () => {
    for (const args of [["log", "cat", dir, "--from", "zero"], ["log", "verify"], ["log", "verify", dir, "--bogus"], ["nope"]]) {
      const result = await atelier(...args);
      expect(result.code, args.join(" ")).toBe(2);
      expect(result.stderr).toMatch(/atelier: .+/);
    }
  });

  it("verify names the file and seq when a byte in the middle is corrupted", async () => {
    const first = join(dir, "log", "0000000000000001.jsonl");
    const original = readFileSync(first);
    const damaged = Buffer.from(original);
    const at = damaged.indexOf("note 7") + 5;
    damaged[at] = "Z".charCodeAt(0);
    writeFileSync(first, damaged);
    try {
      const result = await atelier("log", "verify", dir);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`log corrupted in ${first} at seq 7`);
      expect((await atelier("log", "cat", dir)).code).toBe(1);
    } finally {
      writeFileSync(first, original);
    }
  });
});
