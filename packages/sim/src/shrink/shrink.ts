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
      const candidate = [...best.actions.slice(0, start), ...best.actions.slice(start + chunk)];
      if (!(await attempt(candidate))) start += chunk;
    }
  }
  return { result: best, runs };
};
