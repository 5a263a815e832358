import { buildAsideSteps, type BuildOptions } from "./build.ts";
import { projectionPath, removeDb, swapIn } from "./files.ts";
import type { LogSource } from "../source/log-source.ts";
import { runSteps, type Steps } from "./steps.ts";

export interface RebuildResult {
  /** The last seq the new projection holds. */
  readonly seq: number;
  readonly path: string;
}

/**
 * Rebuilds the projection of `target` (a workspace folder or a `.db` path) from the log (up to
 * `options.to`, default its head) into a fresh file beside it, then swaps it in with an atomic
 * rename. Nothing may hold the old file open.
 */
export const rebuildProjection = (target: string, source: LogSource, options: BuildOptions = {}): RebuildResult =>
  runSteps(rebuildSteps(target, source, options));

/** `rebuildProjection` one transaction at a time (`runStepsGivingWay`). */
export function* rebuildSteps(target: string, source: LogSource, options: BuildOptions = {}): Steps<RebuildResult> {
  const path = projectionPath(target);
  const aside = `${path}.rebuild`;
  let seq: number | undefined;
  try {
    seq = yield* buildAsideSteps(aside, source, options);
  } finally {
    // Failed or stopped between steps: the unfinished file is worthless.
    if (seq === undefined) removeDb(aside);
  }
  swapIn(aside, path);
  return { seq, path };
}
