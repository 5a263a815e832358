import type { Probe } from "../checkers/probes.ts";
import type { FaultName } from "../faults/catalogue.ts";
import { runSeed, type SeedOptions, type SeedResult } from "./run-seed.ts";

export interface SweepReport {
  readonly seeds: number;
  readonly failures: SeedResult[];
  /** Seeds whose two runs stored different bytes (I20), when checked. */
  readonly nondeterministic: number[];
  /** Per fault: seeds in which it fired at least once, and times fired in all. */
  readonly faultSeeds: Map<FaultName, { seeds: number; times: number }>;
  readonly probeSeeds: Map<Probe, number>;
  readonly simulatedMs: number;
}

export interface SweepOptions extends SeedOptions {
  readonly checkDeterminism?: boolean;
  /** Called after each seed (the CLI prints progress and failures). */
  readonly onSeed?: (result: SeedResult) => void | Promise<void>;
}

/** Runs seeds one after another and gathers violations and coverage. */
export const sweep = async (seeds: Iterable<number>, options: SweepOptions): Promise<SweepReport> => {
  const report: SweepReport = { seeds: 0, failures: [], nondeterministic: [], faultSeeds: new Map(), probeSeeds: new Map(), simulatedMs: 0 };
  let simulatedMs = 0;
  for (const seed of seeds) {
    const result = await runSeed(seed, options);
    (report as { seeds: number }).seeds++;
    simulatedMs += result.simulatedMs;
    if (options.checkDeterminism && (await runSeed(seed, options)).digest !== result.digest) report.nondeterministic.push(seed);
    if (result.violation) report.failures.push(result);
    for (const [fault, times] of result.fired) {
      const entry = report.faultSeeds.get(fault) ?? { seeds: 0, times: 0 };
      entry.seeds++;
      entry.times += times;
      report.faultSeeds.set(fault, entry);
    }
    for (const probe of result.probes) report.probeSeeds.set(probe, (report.probeSeeds.get(probe) ?? 0) + 1);
    await options.onSeed?.(result);
  }
  return { ...report, simulatedMs };
};
