import { createHash } from "node:crypto";
import { joinPath } from "@atelier/events";
import { Checkers, checkRecovery } from "../checkers/index.ts";
import type { Probe } from "../checkers/probes.ts";
import { Violation } from "../checkers/violation.ts";
import { describeProfile, drawProfile, type FaultName, type FaultProfile } from "../faults/catalogue.ts";
import { generateScenario, type Action } from "../scenarios/actions.ts";
import { WORKSPACE } from "../world/config.ts";
import { plantFromEnv, type Plant } from "../world/plant.ts";
import { fork, World } from "../world/world.ts";
import { livenessPhase, runSteps, terminalPhase } from "./phases.ts";
import { timelineOf } from "./timeline.ts";

export interface SeedOptions {
  /** Steps of the safety phase. */
  readonly steps: number;
  readonly faults: ReadonlySet<FaultName>;
  /** A planted bug (default: ATELIER_SIM_PLANT, normally unset). */
  readonly plant?: Plant | undefined;
  /** Replay these steps instead of generating them (the shrinker does). */
  readonly actions?: readonly Action[];
}

export interface SeedViolation {
  readonly invariant: string;
  readonly detail: string;
  /** 1-based scenario step; steps + 1 for the liveness phase; beyond it, the terminal phase (steps + 2 is its termination request). */
  readonly step: number;
}

export interface SeedResult {
  readonly seed: number;
  readonly profile: FaultProfile;
  readonly actions: readonly Action[];
  readonly violation: SeedViolation | undefined;
  /** How often each fault fired (link faults counted per frame). */
  readonly fired: ReadonlyMap<FaultName, number>;
  readonly probes: ReadonlySet<Probe>;
  readonly simulatedMs: number;
  /** The timeline as JSONL: the final log's lines with simulator markers between them. */
  readonly timeline: string;
  /** sha256 over every byte the run stored (disk, object store, JetStream) and its timeline (I20). */
  readonly digest: string;
}

/**
 * One seed: draw its fault profile and scenario, run the safety phase (any fault, invariants
 * after every step), then the liveness phase (heal, converge within the bound), then the
 * quiescence checks, then the terminal phase. Stops at the first violation.
 */
export const runSeed = async (seed: number, options: SeedOptions): Promise<SeedResult> => {
  const profile = drawProfile(fork(seed, 0), options.faults);
  const actions = options.actions ?? generateScenario(seed, options.steps, profile);
  const plant = options.plant ?? plantFromEnv();
  const world = new World(seed, profile, plant, checkRecovery);
  const checkers = new Checkers(world);
  const startedAt = world.clock.now();
  world.note("sim.run", { seed, steps: actions.length, fsync: world.fsync, plant: plant ?? null, profile: describeProfile(profile) });
  let violation: SeedViolation | undefined;
  // A promise the code under test rejected with nobody to hear it would end a real process (Node's
  // default); here it fails the seed, so that it is reported and shrunk like any other violation.
  const unhandled = (reason: unknown) => void world.violations.push(new Violation("unhandled-rejection", reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)));
  process.on("unhandledRejection", unhandled);
  try {
    await world.advance(0);
    await runSteps(world, checkers, actions);
    world.step = actions.length + 1;
    world.note("sim.phase", { phase: "liveness" });
    await livenessPhase(world, checkers);
    world.note("sim.phase", { phase: "quiescent" });
    await checkers.atQuiescence();
    await terminalPhase(world, checkers, seed, profile);
  } catch (error) {
    const v = error instanceof Violation ? error : new Violation("sim-error", error instanceof Error ? (error.stack ?? error.message) : String(error));
    violation = { invariant: v.invariant, detail: v.detail, step: world.step };
    world.note("sim.violation", { invariant: v.invariant, detail: v.detail });
  } finally {
    process.off("unhandledRejection", unhandled);
  }
  const simulatedMs = world.clock.now() - startedAt;
  const fired = new Map(world.fired);
  if (world.linkStats.lost > 0) fired.set("loss", world.linkStats.lost);
  if (world.linkStats.duplicated > 0) fired.set("duplicate", world.linkStats.duplicated);
  if (world.linkStats.reordered > 0) fired.set("reorder", world.linkStats.reordered);
  const timeline = timelineOf(world);
  const digest = digestOf(world, timeline);
  await world.host?.crash("process", world.faultRandom, 0);
  return { seed, profile, actions, violation, fired, probes: world.probes.hit, simulatedMs, timeline, digest };
};

const digestOf = (world: World, timeline: string): string => {
  const hash = createHash("sha256");
  const walk = (dir: string) => {
    for (const name of world.storage.list(dir)) {
      const path = joinPath(dir, name);
      const bytes = world.storage.readFile(path);
      if (bytes) hash.update(path).update(bytes);
      else walk(path);
    }
  };
  walk("/sim");
  for (const [key, bytes] of [...world.objectStore.objects].sort(([a], [b]) => (a < b ? -1 : 1))) hash.update(key).update(bytes);
  for (const m of world.jetstream.messagesOf(WORKSPACE)) hash.update(m.line);
  return hash.update(timeline).digest("hex");
};
