/**
 * Run as a child process: opens the projections of the given workspace folders, lets the
 * checkpoint thread start, then closes them one after the other with nothing else keeping the
 * process alive, and says so. Exits 0 only if every close finished.
 * Usage: close-child.ts <workspace-dir>…
 */
import { openLog } from "@atelier/events";
import { atelierCatalogue } from "@atelier/actors/machines";
import { openProjection } from "../../src/index.ts";

const dirs = process.argv.slice(2);
const opened = [];
for (const dir of dirs) {
  const log = await openLog(dir, { workspace: "ws_test", catalogue: atelierCatalogue, fsync: "none" });
  opened.push({ log, projection: await openProjection(dir, log) });
}
await new Promise((resolve) => setTimeout(resolve, 300));
for (const { log, projection } of opened) {
  await projection.close();
  await log.close();
}
console.log(`closed ${opened.length}`);
