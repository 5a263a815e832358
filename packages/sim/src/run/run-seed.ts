import { createHash } from "node:crypto";
import { chance, joinPath, nextInt, pick, type Random } from "@atelier/events";
import { Checkers, checkRecovery } from "../checkers/index.ts";
import { SETTLED, unconverged } from "../checkers/liveness.ts";
import type { Probe } from "../checkers/probes.ts";
import { fail, Violation } from "../checkers/violation.ts";
import { applyFault } from "../faults/apply.ts";
import { describeProfile, drawProfile, type FaultName, type FaultProfile } from "../faults/catalogue.ts";
import { generateScenario, SCENARIO_STREAMS, type Action } from "../scenarios/actions.ts";
import { AGENTS, LIVENESS_BOUND_MS, WORKSPACE } from "../world/config.ts";
import { plantFromEnv, type Plant } from "../world/plant.ts";
import { fork, World } from "../world/world.ts";
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

/** How often the liveness phase looks at convergence (and runs the step checkers). */
const LIVENESS_TICK_MS = 5000;

const perform = async (world: World, action: Action): Promise<void> => {
  switch (action.k) {
    case "wait":
      return;
    case "prompt":
      world.clients[action.user]!.prompt(AGENTS[action.agent]!, action.priority, action.interrupt);
      return;
    case "cancel": {
      const client = world.clients[action.user]!;
      const open = new Set(world.model.openPrompts());
      const mine = client.sent.filter((s) => s.promptId !== undefined && open.has(s.promptId));
      const target = mine[action.pick % Math.max(1, mine.length)];
      if (target) client.cancel(target.agent, target.promptId!);
      return;
    }
    case "lifecycle":
      world.clients[action.user]!.lifecycle(action.op);
      return;
    case "fault":
      return applyFault(world, action.fault, action.arg);
  }
};

/** How many prompts have reached completed, failed or cancelled (only ever grows). */
const terminatedPrompts = (world: World): number => {
  const model = world.syncedModel();
  return model.prompts.size - model.openPrompts().length;
};

const ignore = () => undefined;

/** Drives the converging world: the operator restarts a failed workspace and resumes a hibernated one with work. */
const nudge = async (world: World): Promise<void> => {
  const host = world.host;
  if (!host?.alive) return;
  const status = host.ws.status();
  if (status === "error") await host.call((ws) => ws.lifecycle.restart("sim")).catch(ignore);
  if (status === "hibernated" && world.model.openPrompts().length > 0) await host.call((ws) => ws.lifecycle.resume()).catch(ignore);
};

/** Where a termination may be asked for (ADR 0014). */
const TERMINABLE = new Set(["active", "idle", "hibernated", "error"]);

/** The operator sees the termination through: asks again whenever the workspace can take it. */
const towardsTermination = async (world: World): Promise<void> => {
  const host = world.host;
  if (host?.alive && TERMINABLE.has(host.ws.status())) await host.call((ws) => ws.lifecycle.terminate("sim")).catch(ignore);
};

/**
 * Heals the world and runs it until `unconverged` (with `settled`) is empty, failing `invariant`
 * if it is not within the bound. The bound runs from healing, or from the last prompt that
 * terminated since: a long run's backlog drains at the agents' pace (seed 91000 at 2,000 steps:
 * 301 prompts at ~22 a minute), while a prompt that never terminates still fails the seed once
 * everything else is done.
 */
const converge = async (world: World, checkers: Checkers, invariant: string, settled: ReadonlySet<string>, operator: (world: World) => Promise<void>): Promise<void> => {
  world.heal();
  let deadline = world.clock.now() + LIVENESS_BOUND_MS;
  let terminated = terminatedPrompts(world);
  let waiting = unconverged(world, checkers.mirror, settled);
  while (waiting.length > 0) {
    if (world.clock.now() >= deadline) fail(invariant, `not converged ${LIVENESS_BOUND_MS / 1000}s after healing or the last prompt that terminated: ${waiting.join("; ")}`);
    await operator(world);
    await world.advance(LIVENESS_TICK_MS);
    await checkers.afterStep();
    waiting = unconverged(world, checkers.mirror, settled);
    const now = terminatedPrompts(world);
    if (now > terminated) [terminated, deadline] = [now, world.clock.now() + LIVENESS_BOUND_MS];
  }
};

/** Runs the steps of a phase, each followed by the checks of every step. */
const runSteps = async (world: World, checkers: Checkers, actions: readonly Action[]): Promise<void> => {
  for (const action of actions) {
    world.step++;
    if (action.k !== "wait") world.note("sim.action", { action });
    await perform(world, action);
    await world.advance(action.dt);
    await checkers.afterStep();
    // I7 after every crash and recovery: the reopened projection equals a rebuild.
    if (world.host && world.host.epoch !== checkers.projectionCheckedAt) await checkers.checkProjection(world.host);
  }
};

/** The teardown's two appends: the runners' disconnects and prompts' cancels, then `workspace.terminated`. */
const TEARDOWN_MARKERS = ['"type":"agent.disconnected"', '"type":"workspace.terminated"'];
const TERMINAL_STREAM = 60;

/**
 * Half the seeds whose profile crashes the host crash it inside one of the teardown's appends
 * (written, not synced), so that recovery finds the workspace `terminating` and must finish the
 * teardown itself; the scenario's own crashes land there too rarely.
 */
const crashDuringTeardown = (world: World, r: Random, profile: FaultProfile): void => {
  const kinds = (["crash", "power-loss"] as const).filter((f) => profile.weights[f] > 0);
  if (kinds.length === 0 || !chance(r, 0.5)) return;
  const fault = pick(r, kinds);
  const marker = pick(r, TEARDOWN_MARKERS);
  const torn = fault === "power-loss" && chance(r, 0.5) ? 1 : 0;
  world.crashMidAppend(fault === "crash" ? "process" : "power", nextInt(r, 100, 5000), torn, (data) => Buffer.from(data.buffer, data.byteOffset, data.byteLength).includes(marker));
  world.count(fault);
  world.note("sim.fault", { fault, during: "teardown", marker });
};

/** Steps of the terminal phase after the termination request. */
const TERMINAL_STEPS = 30;
const TERMINATED: ReadonlySet<string> = new Set(["terminated"]);

/**
 * I22, after quiescence: a user terminates the workspace (hibernated or not), then users, runners and the seed's
 * faults go on at it (prompts, cancels, hibernate and resume, crashes mid-teardown). Healed, it
 * must reach `terminated` within the bound, every prompt ended and no lock held; and it stays
 * there: nothing is recorded after `workspace.terminated` (HibernationChecker) and no timer is
 * armed (ReplayChecker).
 */
const terminalPhase = async (world: World, checkers: Checkers, seed: number, profile: FaultProfile): Promise<void> => {
  world.note("sim.phase", { phase: "terminal" });
  crashDuringTeardown(world, fork(seed, TERMINAL_STREAM), profile);
  const terminate: Action = { k: "lifecycle", dt: 1000, user: 0, op: "terminate" };
  await runSteps(world, checkers, [terminate, ...generateScenario(seed, TERMINAL_STEPS, profile, SCENARIO_STREAMS.terminal)]);
  await converge(world, checkers, "I22", TERMINATED, towardsTermination);
  world.note("sim.phase", { phase: "terminated" });
  await checkers.atQuiescence();
};

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
    await converge(world, checkers, "I21", SETTLED, nudge);
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
