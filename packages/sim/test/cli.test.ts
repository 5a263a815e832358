import { spawnSync } from "node:child_process";
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

  it("runs a list of seeds and reports them", () => {
    const run = sim("--seeds", "3,5", "--steps", "20", "--out", join(import.meta.dirname, "../../../.tmp/sim-cli-test"));
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^2 seeds, 0 violations/m);
  });
});
