/**
 * @atelier/sim: the deterministic simulator. One seed → one fault profile, one scenario, one
 * world of the real packages on a virtual clock, in-memory disk and simulated network; invariants
 * after every step; a shrunk trace and a timeline for any violation. The CLI is src/cli.ts.
 */
export { runSeed, type SeedOptions, type SeedResult, type SeedViolation } from "./run/run-seed.ts";
export { sweep, type SweepOptions, type SweepReport } from "./run/sweep.ts";
export { shrink, type Shrunk } from "./shrink/shrink.ts";
export { ALL_FAULTS, DISCRETE_FAULTS, LINK_FAULTS, describeFault, describeProfile, type FaultName, type FaultProfile } from "./faults/catalogue.ts";
export { describeAction, type Action } from "./scenarios/actions.ts";
export { PROBES, type Probe } from "./checkers/probes.ts";
export { PLANTS, type Plant } from "./world/plant.ts";
