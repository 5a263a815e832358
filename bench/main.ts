/**
 * `npm run bench -- [name...]`: runs the named benches (all that exist when none is named).
 * Each bench is `bench/<name>.ts` exporting `async function run(): Promise<void>` that prints
 * its table through `report` in bench/raw.ts. Exits 1 when any target is missed.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { reports, repoRoot } from "./raw.ts";

const KNOWN = ["log", "actors", "projections", "sim", "gateway", "mirror", "viewer", "studio", "hibernate"] as const;

const benchFile = (name: string): string => path.join(repoRoot, "bench", `${name}.ts`);
const exists = (name: string): boolean => fs.existsSync(benchFile(name));

const usage = (): string => {
  const lines = KNOWN.map((name) => `  ${name.padEnd(12)} ${exists(name) ? "bench/" + name + ".ts" : "(missing: bench/" + name + ".ts does not exist yet)"}`);
  return [
    "usage: npm run bench -- [name...]",
    "",
    "Runs the named benches, or every one that exists when none is named. Each prints a table:",
    "measured figure, the raw limit measured in the same run, the ratio, the target and PASS/FAIL.",
    "Exit code 1 when any target is missed, 2 on a bad name.",
    "",
    "benches:",
    ...lines,
  ].join("\n");
};

interface BenchModule {
  run(): Promise<void>;
}

const main = async (): Promise<number> => {
  const args = process.argv.slice(2);
  if (args.includes("--help") || args.includes("-h")) {
    console.log(usage());
    return 0;
  }
  const unknown = args.filter((a) => !(KNOWN as readonly string[]).includes(a));
  if (unknown.length > 0) {
    console.error(`unknown bench: ${unknown.join(", ")}\n\n${usage()}`);
    return 2;
  }
  const missing = (args.length > 0 ? args : KNOWN).filter((n) => !exists(n));
  const names = (args.length > 0 ? args : [...KNOWN]).filter(exists);
  if (missing.length > 0) console.log(`not run (no bench file yet): ${missing.join(", ")}`);
  if (names.length === 0) {
    console.error("nothing to run");
    return args.length > 0 ? 2 : 0;
  }
  console.log(`node ${process.version}, ${process.platform}/${process.arch}, running: ${names.join(", ")}`);

  const crashes: string[] = [];
  for (const name of names) {
    const mod = (await import(pathToFileURL(benchFile(name)).href)) as Partial<BenchModule>;
    if (typeof mod.run !== "function") {
      crashes.push(`${name}: bench/${name}.ts does not export run()`);
      continue;
    }
    try {
      await mod.run();
    } catch (error) {
      crashes.push(`${name}: crashed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    }
  }

  console.log("\n## summary\n");
  let missed = 0;
  for (const { bench, rows } of reports) {
    const judged = rows.filter((r) => r.pass !== undefined);
    const failed = judged.filter((r) => !r.pass);
    missed += failed.length;
    console.log(`${bench}: ${judged.length - failed.length}/${judged.length} targets met`);
    for (const r of failed) console.log(`  FAIL ${r.metric}: ${r.measured} (target ${r.target})`);
  }
  for (const c of crashes) console.log(`FAIL ${c}`);
  if (missing.length > 0) console.log(`not run (no bench file yet): ${missing.join(", ")}`);
  return missed + crashes.length > 0 ? 1 : 0;
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
