import { performance } from "node:perf_hooks";
import type { ProjectionOptions } from "@atelier/projections";

const message = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** The projection's reports, as lines of the server's log naming workspace `id`. */
export const readModelReports = (id: string, log: ((line: string) => void) | undefined): Pick<ProjectionOptions, "onError" | "onLiveRebuild"> => {
  if (log === undefined) return {};
  let started = 0;
  return {
    onError: (error) => log(`workspace ${id}: read models: ${message(error)}`),
    onLiveRebuild: (rebuild) => {
      if (rebuild.phase === "started") {
        started = performance.now();
        const why = rebuild.reason === "damaged" ? `found damaged (${message(rebuild.cause)})` : "asked to be rebuilt";
        log(`workspace ${id}: read models ${why}; rebuilding them from the log`);
      } else if (rebuild.phase === "done") {
        log(`workspace ${id}: read models rebuilt from the log: ${rebuild.seq} events, ${((performance.now() - started) / 1000).toFixed(1)} s`);
      } else {
        log(`workspace ${id}: read models could not be rebuilt (${message(rebuild.error)}); the next commit or request tries again`);
      }
    },
  };
};
