import { describe, it } from "vitest";
import { ciSweep } from "./ci-sweep.ts";

describe("CI sweep (part b)", () => {
  it("seeds 101..200, every fault allowed: no invariant is violated", ciSweep(101, 200), 170_000);
});
