import { expect } from "vitest";
import { ALL_FAULTS, describeAction, sweep } from "../src/index.ts";

/** Runs `seeds` with every fault allowed: fails listing each violation and its trace. */
export const sweepSeeds = (seeds: readonly number[], steps = 80) => async () => {
  const report = await sweep(seeds, { steps, faults: new Set(ALL_FAULTS) });
  const failures = report.failures.map((r) => `seed ${r.seed}: ${r.violation!.invariant} at step ${r.violation!.step}: ${r.violation!.detail}\n  ${r.actions.map(describeAction).join("\n  ")}`);
  expect(failures).toEqual([]);
  expect(report.seeds).toBe(seeds.length);
};

/** A CI sweep over seeds from..to. */
export const ciSweep = (from: number, to: number) => sweepSeeds(Array.from({ length: to - from + 1 }, (_, i) => from + i));
