import { describe, it } from "vitest";
import { sweepSeeds } from "./ci-sweep.ts";

/** Seeds (and step counts) that once found a bug, kept so the bug stays fixed. */
describe("seeds that found bugs", () => {
  // A disk that fills up while a host recovers from power loss: the recovery's appends fail the log
  // with ENOSPC as its cause, and the supervisor must retry (F27), not count it as lost data.
  it("5243, 5588: recovery on a full disk is retried", sweepSeeds([5243, 5588], 250), 60_000);
});
