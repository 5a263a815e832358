import { expect } from "vitest";
import { ALL_FAULTS, describeAction, sweep } from "../src/index.ts";

/** A CI sweep over seeds from..to, every fault allowed: fails listing each violation and its trace. */
export const ciSweep = (from: number, to: number) => async () => {
  const seeds = Array.from({ length: to - from + 1 }, (_, i) => from + i);
  const report = await sweep(seeds, { steps: 80, faults: new Set(ALL_FAULTS) });
  const failures = report.failures.map((r) => `seed ${r.seed}: ${r.violation!.invariant} at step ${r.violation!.step}: ${r.violation!.detail}\n  ${r.actions.map(describeAction).join("\n  ")}`);
  expect(failures).toEqual([]);
  expect(report.seeds).toBe(seeds.length);
};
