/** The phases of a seed's run (ADR 0007): its steps, the liveness phase, the terminal phase. */
import { chance, nextInt, pick, type Random } from "@atelier/events";
import type { Checkers } from "../checkers/index.ts";
import { SETTLED, unconverged } from "../checkers/liveness.ts";
import { fail } from "../checkers/violation.ts";
import { applyFault } from "../faults/apply.ts";
import type { FaultProfile } from "../faults/catalogue.ts";
import { generateScenario, SCENARIO_STREAMS, type Action } from "../scenarios/actions.ts";
import { AGENTS, LIVENESS_BOUND_MS } from "../world/config.ts";
import { fork, type World } from "../world/world.ts";

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
export const runSteps = async (world: World, checkers: Checkers, actions: readonly Action[]): Promise<void> => {
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
export const terminalPhase = async (world: World, checkers: Checkers, seed: number, profile: FaultProfile): Promise<void> => {
  world.note("sim.phase", { phase: "terminal" });
  crashDuringTeardown(world, fork(seed, TERMINAL_STREAM), profile);
  const terminate: Action = { k: "lifecycle", dt: 1000, user: 0, op: "terminate" };
  await runSteps(world, checkers, [terminate, ...generateScenario(seed, TERMINAL_STEPS, profile, SCENARIO_STREAMS.terminal)]);
  await converge(world, checkers, "I22", TERMINATED, towardsTermination);
  world.note("sim.phase", { phase: "terminated" });
  await checkers.atQuiescence();
};

/** I21: healed, the world converges within the bound; an operator restarts a failed workspace and resumes one with work. */
export const livenessPhase = (world: World, checkers: Checkers): Promise<void> => converge(world, checkers, "I21", SETTLED, nudge);
