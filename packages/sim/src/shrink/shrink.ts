import type { Action } from "../scenarios/actions.ts";
import { runSeed, type SeedOptions, type SeedResult } from "../run/run-seed.ts";

export interface Shrunk {
  readonly result: SeedResult;
  readonly runs: number;
}

/**
 * The shortest scenario (of the seed's own steps, in order) that still violates the same
 * invariant: first cut everything after the failing step, then delta-debug (drop halves,
 * quarters, ... single steps while it keeps failing). Faults carry their parameters, so a kept
 * step replays as it was; the rest of the world is re-drawn from the seed. Bounded by `maxRuns`.
 * A dropped step's wait goes to the step before it, so the steps kept still happen when they did:
 * a violation that needs two steps at a given distance survives dropping those between them.
 */
export const shrink = async (failing: SeedResult, options: SeedOptions, maxRuns = 150): Promise<Shrunk> => {
  const invariant = failing.violation!.invariant;
  let best = failing;
  let runs = 0;
  const attempt = async (actions: readonly Action[]): Promise<boolean> => {
    if (runs >= maxRuns) return false;
    runs++;
    const result = await runSeed(failing.seed, { ...options, actions });
    if (result.violation?.invariant !== invariant) return false;
    best = result;
    return true;
  };
  const step = failing.violation!.step;
  if (step < failing.actions.length) await attempt(failing.actions.slice(0, step));
  for (let chunk = Math.ceil(best.actions.length / 2); chunk >= 1 && runs < maxRuns; chunk = chunk === 1 ? 0 : Math.ceil(chunk / 2)) {
    for (let start = 0; start < best.actions.length && runs < maxRuns; ) {
      if (!(await attempt(without(best.actions, start, chunk)))) start += chunk;
    }
  }
  return { result: best, runs };
};

/** `actions` without `count` steps from `start`, their simulated time added to the step before them. */
const without = (actions: readonly Action[], start: number, count: number): Action[] => {
  const kept = [...actions.slice(0, start), ...actions.slice(start + count)];
  if (start === 0) return kept;
  const dropped = actions.slice(start, start + count).reduce((sum, a) => sum + a.dt, 0);
  kept[start - 1] = { ...kept[start - 1]!, dt: kept[start - 1]!.dt + dropped };
  return kept;
};
