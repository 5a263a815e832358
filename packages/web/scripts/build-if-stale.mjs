#!/usr/bin/env node
// Builds packages/web/dist when it is missing or older than any of its sources (the web package
// and the browser-safe code it bundles from @atelier/actors/machines and @atelier/events).
// Used by the root `prestart` and by the browser tests. `--check` only reports (exit 1 = stale).
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const web = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const root = resolve(web, "../..");
const index = join(web, "dist", "index.html");
const sources = [
  join(web, "src"),
  join(web, "index.html"),
  join(web, "vite.config.ts"),
  join(web, "package.json"),
  join(root, "packages/actors/src/machines"),
  join(root, "packages/events/src"),
];

const newest = (p) => {
  if (!existsSync(p)) return 0;
  const st = statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  let t = st.mtimeMs;
  for (const name of readdirSync(p)) t = Math.max(t, newest(join(p, name)));
  return t;
};

const stale = () => !existsSync(index) || Math.max(...sources.map(newest)) > statSync(index).mtimeMs;

if (!stale()) process.exit(0);
if (process.argv.includes("--check")) {
  console.log("web build is missing or stale");
  process.exit(1);
}
// One builder at a time (parallel test files, or a test next to `npm start`): a lock folder.
const lock = join(web, ".dist.lock");
const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
for (let waited = 0; ; waited += 200) {
  try {
    mkdirSync(lock);
    break;
  } catch {
    const age = existsSync(lock) ? Date.now() - statSync(lock).mtimeMs : 0;
    if (age > 120_000) rmSync(lock, { recursive: true, force: true });
    else sleep(200);
  }
}
let status = 0;
try {
  if (stale()) {
    console.error("building the web studio (packages/web/dist)…");
    status = spawnSync("npx", ["vite", "build", "--logLevel", "warn"], { cwd: web, stdio: "inherit" }).status ?? 1;
  }
} finally {
  rmSync(lock, { recursive: true, force: true });
}
process.exit(status);
