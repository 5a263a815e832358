import { nextFloat, type Random } from "../services/random.ts";

export interface BackoffOptions {
  /** The first delay's ceiling (default 100 ms). */
  readonly baseMs?: number;
  /** The ceiling no delay exceeds (default 5 s): an outage is noticed within that after it heals. */
  readonly maxMs?: number;
}

/**
 * Exponential backoff with "equal jitter": half the ceiling plus a random half, so retries from
 * many mirrors spread out after a shared outage but never collapse to zero. Drawn from the
 * injected Random so a simulated run replays.
 */
export const backoffDelay = (attempt: number, random: Random, options: BackoffOptions = {}): number => {
  const base = options.baseMs ?? 100;
  const max = options.maxMs ?? 5000;
  const ceiling = Math.min(max, base * 2 ** Math.min(attempt, 30));
  return ceiling / 2 + nextFloat(random) * (ceiling / 2);
};
