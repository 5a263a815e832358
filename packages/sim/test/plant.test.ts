import { describe, expect, it } from "vitest";
import { ALL_FAULTS, runSeed, shrink, sweep, type Plant } from "../src/index.ts";
import { plantFrom } from "../src/world/plant.ts";

const options = (plant: Plant) => ({ steps: 60, faults: new Set(ALL_FAULTS), plant });

/** Sweeps until the planted bug shows, then shrinks it: the checkers must bite, and say where. */
const findAndShrink = async (plant: Plant, invariant: string) => {
  let found;
  for (let seed = 1; seed <= 40 && !found; seed++) {
    const r = await runSeed(seed, options(plant));
    if (r.violation) found = r;
  }
  expect(found, `${plant} was never detected in 40 seeds`).toBeDefined();
  expect(found!.violation!.invariant).toBe(invariant);
  const { result } = await shrink(found!, options(plant), 60);
  expect(result.violation!.invariant).toBe(invariant);
  expect(result.actions.length).toBeLessThanOrEqual(8);
  expect(result.actions.length).toBeLessThan(found!.actions.length);
  expect(result.timeline).toContain('"type":"sim.violation"');
};

describe("planted bugs prove the checkers bite", () => {
  it("lock-exclusion (the file gateway fences against the highest token seen): I9, shrunk", () => findAndShrink("lock-exclusion", "I9"), 170_000);

  it("drop-requeue (the runner gateway hides disconnects): I21, shrunk", () => findAndShrink("drop-requeue", "I21"), 170_000);

  it("is off by default: no ATELIER_SIM_PLANT, no plant", async () => {
    expect(plantFrom(undefined)).toBeUndefined();
    expect(plantFrom("")).toBeUndefined();
    expect(() => plantFrom("typo")).toThrow(/unknown ATELIER_SIM_PLANT/);
    const report = await sweep([7, 13], { steps: 60, faults: new Set(ALL_FAULTS) });
    expect(report.failures).toEqual([]);
  }, 60_000);
});
