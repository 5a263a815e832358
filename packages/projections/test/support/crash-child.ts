/**
 * Run as a child process: opens the workspace's projection and, while catching up, kills itself
 * with SIGKILL in the middle of a transaction (inside the projector of `killAt`).
 * Usage: crash-child.ts <workspace-dir> <killAt> <batch>
 */
import { openLog } from "@atelier/events";
import { atelierCatalogue } from "@atelier/actors/machines";
import { atelierProjectors, openProjection } from "../../src/index.ts";

const [dir, killAt, batch] = process.argv.slice(2);
const log = await openLog(dir!, { workspace: "ws_test", catalogue: atelierCatalogue, fsync: "none" });
await openProjection(dir!, log, {
  batch: Number(batch),
  registry: {
    version: atelierProjectors.version,
    project(event) {
      if (event.seq === Number(killAt)) process.kill(process.pid, "SIGKILL");
      return atelierProjectors.project(event);
    },
  },
});
console.log("caught up without being killed");
