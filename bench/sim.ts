/**
 * `npm run bench -- sim`: how fast the simulator explores. Runs a fixed sweep (all faults, 200
 * safety steps per seed, then liveness) after a warm-up and reports simulated seconds per wall
 * second and seeds per minute, with the share of wall time the checkers take.
 */
import { performance } from "node:perf_hooks";
import { ALL_FAULTS, sweep } from "@atelier/sim";
import { report, type Row } from "./raw.ts";

const SEEDS = 100;
const STEPS = 200;

export async function run(): Promise<void> {
  const options = { steps: STEPS, faults: new Set(ALL_FAULTS) };
  await sweep([9001, 9002, 9003], options); // warm-up: JIT and module loading out of the figure
  const started = performance.now();
  const result = await sweep(
    Array.from({ length: SEEDS }, (_, i) => 1 + i),
    options,
  );
  const wallS = (performance.now() - started) / 1000;
  const simS = result.simulatedMs / 1000;
  const speedup = simS / wallS;
  const seedsPerMinute = (SEEDS * 60) / wallS;
  const rows: Row[] = [
    {
      metric: `simulated time per wall time (${SEEDS} seeds × ${STEPS} steps + liveness, all faults)`,
      measured: `${speedup.toFixed(0)}x (${simS.toFixed(0)} s simulated in ${wallS.toFixed(1)} s)`,
      target: "≥ 100x",
      pass: speedup >= 100,
    },
    { metric: "seeds per minute (one core)", measured: seedsPerMinute.toFixed(0) },
    { metric: "violations in the sweep", measured: String(result.failures.length), target: "0", pass: result.failures.length === 0 },
  ];
  report("sim", rows, [`each seed: a fault profile drawn VOPR-style, invariants after every step, liveness bound 600 s simulated`]);
}
