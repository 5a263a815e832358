import { describe, it } from "vitest";
import { ciSweep } from "./ci-sweep.ts";

// Seeds 1..100 here and 101..200 in sweep-b.test.ts: vitest runs the two files on separate cores.
describe("CI sweep (part a)", () => {
  it("seeds 1..100, every fault allowed: no invariant is violated", ciSweep(1, 100), 170_000);
});
