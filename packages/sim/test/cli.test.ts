import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const cli = join(import.meta.dirname, "../src/cli.ts");
const sim = (...args: string[]) => spawnSync(process.execPath, ["--import", "tsx", cli, ...args], { encoding: "utf8" });

describe("npm run sim", () => {
  it("refuses seeds that name no seed, saying what it expects (exit 2)", () => {
    for (const [seeds, message] of [
      ["5..1", "--seeds 5..1 is empty: the first seed must not exceed the last"],
      ["3,,5", "bad --seeds 3,,5: expected A..B, N, or a list such as 3,17,40"],
      ["", "bad --seeds : expected"],
    ] as const) {
      const run = sim("--seeds", seeds);
      expect(run.status).toBe(2);
      expect(run.stderr).toContain(message);
      expect(run.stdout).not.toContain("seeds,");
    }
  });

  it("runs a list of seeds and reports them; --timelines writes each one's timeline for the viewer", () => {
    const out = mkdtempSync(join(tmpdir(), "atelier-sim-cli-"));
    try {
      const run = sim("--seeds", "3,5", "--steps", "20", "--out", out, "--timelines");
      expect(run.status).toBe(0);
      expect(run.stdout).toMatch(/^2 seeds, 0 violations/m);
      expect(readdirSync(out).sort()).toEqual(["seed-3.jsonl", "seed-5.jsonl"]);
      const lines = readFileSync(join(out, "seed-3.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as { seq?: number; type: string });
      expect(lines.filter((l) => l.seq !== undefined).at(-1)?.type).toBe("workspace.terminated");
      expect(lines.some((l) => l.type === "sim.phase")).toBe(true);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
