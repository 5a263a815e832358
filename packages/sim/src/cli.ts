/**
 * `npm run sim -- --seeds 1..1000 [--steps N] [--faults list|all] [--out dir] [--timelines] [--check-determinism]`
 * Runs the simulator over a range of seeds and prints one summary line, the coverage table and,
 * for each failing seed, the invariant, the step and the shrunk trace. Exit 1 on any violation.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PROBES } from "./checkers/probes.ts";
import { ALL_FAULTS, describeFault, describeProfile, type FaultName } from "./faults/catalogue.ts";
import { describeAction } from "./scenarios/actions.ts";
import type { SeedOptions, SeedResult } from "./run/run-seed.ts";
import { sweep, type SweepReport } from "./run/sweep.ts";
import { shrink } from "./shrink/shrink.ts";

const USAGE = `usage: npm run sim -- --seeds A..B [--steps N] [--faults all|name,name] [--out dir] [--timelines] [--check-determinism] [--verbose]

  --seeds A..B           seeds to run (also a single N, or a list 3,17,40); default 1..100
  --steps N              steps of the safety phase per seed; default 200
  --faults all|list      faults the seeds may draw from; default all. Known:
${ALL_FAULTS.map((f) => `                           ${f.padEnd(16)} ${describeFault(f)}`).join("\n")}
  --out dir              where failing seeds' timelines (JSONL) go; default .tmp/sim
  --timelines            also write every passing seed's timeline there (seed-<n>.jsonl), for the replay viewer
  --check-determinism    run every seed twice and compare every stored byte (I20)
  --verbose              print each seed's fault profile
ATELIER_SIM_PLANT=lock-exclusion|drop-requeue plants a known bug (to see the checkers bite).`;

interface Args {
  seeds: number[];
  steps: number;
  faults: Set<FaultName>;
  out: string;
  timelines: boolean;
  checkDeterminism: boolean;
  verbose: boolean;
}

const parseSeeds = (text: string): number[] => {
  const range = /^(\d+)\.\.(\d+)$/.exec(text);
  if (range) {
    const [a, b] = [Number(range[1]), Number(range[2])];
    if (a > b) throw new Error(`--seeds ${text} is empty: the first seed must not exceed the last`);
    return Array.from({ length: b - a + 1 }, (_, i) => a + i);
  }
  const items = text.split(",");
  if (!items.every((item) => /^\d+$/.test(item))) throw new Error(`bad --seeds ${text}: expected A..B, N, or a list such as 3,17,40`);
  return items.map(Number);
};

const parseArgs = (argv: string[]): Args => {
  const args: Args = { seeds: parseSeeds("1..100"), steps: 200, faults: new Set(ALL_FAULTS), out: ".tmp/sim", timelines: false, checkDeterminism: false, verbose: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = () => argv[++i] ?? (() => { throw new Error(`${flag} needs a value`); })();
    if (flag === "--seeds") args.seeds = parseSeeds(value());
    else if (flag === "--steps") args.steps = Number(value());
    else if (flag === "--faults") {
      const v = value();
      const names = v === "all" ? ALL_FAULTS : v === "none" ? [] : v.split(",");
      const unknown = names.filter((n) => !(ALL_FAULTS as readonly string[]).includes(n));
      if (unknown.length > 0) throw new Error(`unknown fault ${unknown.join(", ")}`);
      args.faults = new Set(names as FaultName[]);
    } else if (flag === "--out") args.out = value();
    else if (flag === "--timelines") args.timelines = true;
    else if (flag === "--check-determinism") args.checkDeterminism = true;
    else if (flag === "--verbose") args.verbose = true;
    else throw new Error(`unknown option ${flag}`);
  }
  if (!Number.isInteger(args.steps) || args.steps < 0) throw new Error("--steps must be a whole number");
  return args;
};

const pct = (n: number, of: number) => `${((100 * n) / Math.max(1, of)).toFixed(1)}%`;

const coverage = (report: SweepReport, enabled: ReadonlySet<FaultName>): string[] => {
  const lines = ["", "fault coverage (seeds in which it fired, times fired):"];
  for (const f of ALL_FAULTS) {
    const e = report.faultSeeds.get(f) ?? { seeds: 0, times: 0 };
    const low = !enabled.has(f) ? "  (off)" : e.seeds / Math.max(1, report.seeds) < 0.01 ? "  LOW" : "";
    lines.push(`  ${f.padEnd(16)} ${pct(e.seeds, report.seeds).padStart(6)} ${String(e.times).padStart(8)}  ${describeFault(f)}${low}`);
  }
  lines.push("", "sometimes probes (seeds that reached them):");
  for (const p of PROBES) lines.push(`  ${pct(report.probeSeeds.get(p) ?? 0, report.seeds).padStart(6)}  ${p}`);
  return lines;
};

const writeTimeline = (out: string, name: string, result: SeedResult): string => {
  mkdirSync(out, { recursive: true });
  const path = join(out, name);
  writeFileSync(path, result.timeline);
  return path;
};

const reportFailure = async (result: SeedResult, options: SeedOptions, out: string): Promise<void> => {
  const v = result.violation!;
  console.log(`\nseed ${result.seed}: ${v.invariant} violated at step ${v.step}: ${v.detail}`);
  console.log(`  faults: ${describeProfile(result.profile)}`);
  const full = writeTimeline(out, `seed-${result.seed}.full.jsonl`, result);
  const { result: small, runs } = await shrink(result, options);
  console.log(`  shrunk from ${result.actions.length} to ${small.actions.length} steps in ${runs} runs; still ${small.violation!.invariant} at step ${small.violation!.step}:`);
  small.actions.forEach((a, i) => console.log(`    ${String(i + 1).padStart(3)}. ${describeAction(a)}`));
  const path = writeTimeline(out, `seed-${result.seed}.jsonl`, small);
  console.log(`  timelines: ${path} (shrunk), ${full} (as run)`);
};

const main = async (): Promise<number> => {
  if (process.argv.includes("--help") || process.argv.includes("-h")) return (console.log(USAGE), 0);
  let args: Args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
    return 2;
  }
  const options: SeedOptions = { steps: args.steps, faults: args.faults };
  const started = performance.now(); // clock-ok: wall time of the run, for the summary only
  let written = 0;
  const report = await sweep(args.seeds, {
    ...options,
    checkDeterminism: args.checkDeterminism,
    onSeed: async (result) => {
      if (args.verbose) console.log(`seed ${result.seed}: ${describeProfile(result.profile)}${result.violation ? ` → ${result.violation.invariant}` : ""}`);
      if (result.violation) await reportFailure(result, options, args.out);
      else if (args.timelines) {
        writeTimeline(args.out, `seed-${result.seed}.jsonl`, result);
        written++;
      }
    },
  });
  const wallMs = performance.now() - started; // clock-ok: wall time of the run, for the summary only
  for (const line of coverage(report, args.faults)) console.log(line);
  if (args.timelines) console.log(`\ntimelines of ${written} passing seeds: ${join(args.out, "seed-<n>.jsonl")} (open them in the studio's timeline viewer)`);
  for (const seed of report.nondeterministic) console.log(`seed ${seed}: I20 violated: two runs stored different bytes`);
  const simS = report.simulatedMs / 1000;
  console.log(
    `\n${report.seeds} seeds, ${report.failures.length} violations, ${report.nondeterministic.length} nondeterministic${args.checkDeterminism ? "" : " (not checked)"}, ` +
      `${simS.toFixed(0)} s simulated in ${(wallMs / 1000).toFixed(1)} s (${(simS / (wallMs / 1000)).toFixed(0)}x), ${((report.seeds * 60_000) / wallMs).toFixed(0)} seeds/min`,
  );
  return report.failures.length + report.nondeterministic.length > 0 ? 1 : 0;
};

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
