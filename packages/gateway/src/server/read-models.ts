import { performance } from "node:perf_hooks";
import type { ProjectionOptions } from "@atelier/projections";

const message = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** The projection's reports, as lines of the server's log naming workspace `id`. */
export const readModelReports = (id: string, log: ((line: string) => void) | undefined): Pick<ProjectionOptions, "onError" | "onRepair"> => {
  if (log === undefined) return {};
  let started = 0;
  return {
    onError: (error) => log(`workspace ${id}: read models: ${message(error)}`),
    onRepair: (repair) => {
      if (repair.phase === "started") {
        started = performance.now();
        log(`workspace ${id}: read models found damaged (${message(repair.cause)}); rebuilding them from the log`);
      } else if (repair.phase === "done") {
        log(`workspace ${id}: read models rebuilt from the log: ${repair.seq} events, ${((performance.now() - started) / 1000).toFixed(1)} s`);
      } else {
        log(`workspace ${id}: read models could not be rebuilt (${message(repair.error)}); the next commit tries again`);
      }
    },
  };
};
