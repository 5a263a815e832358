import { chance, nextFloat, nextInt, pick, seededRandom } from "@atelier/events";
import type { LifecycleOp } from "../world/client.ts";
import { AGENTS, USERS } from "../world/config.ts";
import type { DiscreteFault, FaultProfile } from "../faults/catalogue.ts";

/**
 * One scenario step: something a person or the environment does, then `dt` ms of simulated time.
 * Steps are plain data drawn from the seed up front, so the shrinker can drop some and replay.
 */
export type Action =
  | { readonly k: "wait"; readonly dt: number }
  | { readonly k: "prompt"; readonly dt: number; readonly user: number; readonly agent: number; readonly priority: number; readonly interrupt: boolean }
  | { readonly k: "cancel"; readonly dt: number; readonly user: number; readonly pick: number }
  | { readonly k: "lifecycle"; readonly dt: number; readonly user: number; readonly op: LifecycleOp }
  | { readonly k: "fault"; readonly dt: number; readonly fault: DiscreteFault; readonly arg: number };

const weighted = (r: ReturnType<typeof seededRandom>, weights: Readonly<Record<DiscreteFault, number>>): DiscreteFault | undefined => {
  const entries = Object.entries(weights).filter(([, w]) => w > 0) as [DiscreteFault, number][];
  const total = entries.reduce((a, [, w]) => a + w, 0);
  let x = nextFloat(r) * total;
  for (const [f, w] of entries) if ((x -= w) < 0) return f;
  return entries.at(-1)?.[0];
};

/** The random streams steps are drawn from: the safety phase's, and the terminal phase's (after the termination). */
export const SCENARIO_STREAMS = { safety: 0x5ce7a210, terminal: 0x7e3a1a11 } as const;

/**
 * Steps for a seed: users and agents at work, faults at the profile's rates. Users never terminate
 * the workspace here: the terminal phase does, once, after quiescence.
 */
export const generateScenario = (seed: number, steps: number, profile: FaultProfile, stream: number = SCENARIO_STREAMS.safety): Action[] => {
  const r = seededRandom(seed ^ stream);
  const actions: Action[] = [];
  for (let i = 0; i < steps; i++) {
    const dt = chance(r, 0.1) ? nextInt(r, 5_000, 40_000) : nextInt(r, 50, 3_000);
    const fault = chance(r, profile.perStep) ? weighted(r, profile.weights) : undefined;
    if (fault) {
      actions.push({ k: "fault", dt, fault, arg: r.nextUint32() });
      continue;
    }
    const roll = nextInt(r, 0, 99);
    const user = nextInt(r, 0, USERS.length - 1);
    if (roll < 30) actions.push({ k: "prompt", dt, user, agent: nextInt(r, 0, AGENTS.length - 1), priority: pick(r, [0, 0, 0, 1, 2]), interrupt: chance(r, 0.05) });
    else if (roll < 35) actions.push({ k: "cancel", dt, user, pick: r.nextUint32() });
    else if (roll < 39) actions.push({ k: "lifecycle", dt, user, op: pick(r, ["hibernate", "resume", "touch"] as const) });
    else actions.push({ k: "wait", dt });
  }
  return actions;
};

export const describeAction = (a: Action): string => {
  switch (a.k) {
    case "wait":
      return `wait ${a.dt}ms`;
    case "prompt":
      return `${USERS[a.user]} prompts ${AGENTS[a.agent]} (priority ${a.priority}${a.interrupt ? ", interrupt" : ""}), wait ${a.dt}ms`;
    case "cancel":
      return `${USERS[a.user]} cancels an open prompt, wait ${a.dt}ms`;
    case "lifecycle":
      return `${USERS[a.user]} ${a.op}s the workspace, wait ${a.dt}ms`;
    case "fault":
      return `fault ${a.fault} (${a.arg}), wait ${a.dt}ms`;
  }
};
