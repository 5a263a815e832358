import { describe, expect, it } from "vitest";
import { ALL_FAULTS, runSeed } from "../src/index.ts";

// I20: the same seed and build give byte-identical runs (every stored byte and the timeline).
describe("determinism", () => {
  it("runs each of a subset of seeds twice with identical bytes", async () => {
    for (const seed of [3, 12, 77, 150, 999]) {
      const options = { steps: 60, faults: new Set(ALL_FAULTS) };
      const [a, b] = [await runSeed(seed, options), await runSeed(seed, options)];
      expect(b.digest, `seed ${seed}`).toBe(a.digest);
      expect(b.timeline).toBe(a.timeline);
    }
  }, 120_000);

  it("different seeds give different runs", async () => {
    const options = { steps: 30, faults: new Set(ALL_FAULTS) };
    expect((await runSeed(1, options)).digest).not.toBe((await runSeed(2, options)).digest);
  }, 60_000);
});
