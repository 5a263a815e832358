import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type EventLog, openLog, systemClock } from "@atelier/events";
import { atelierCatalogue } from "@atelier/actors/machines";
import { migrate, openDb } from "../../src/index.ts";
import { Workload } from "./workload.ts";

const made: string[] = [];

/** A fresh folder, removed by `cleanup`. */
export const tempDir = (name = "projections"): string => {
  const dir = mkdtempSync(join(tmpdir(), `atelier-${name}-`));
  made.push(dir);
  return dir;
};

export const cleanup = (): void => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
};

/** Opens a workspace's log whose clock follows `workload` (ts matches the payloads' `at`). */
export const openWorkloadLog = (dir: string, workload: Workload): Promise<EventLog> =>
  openLog(dir, {
    workspace: "ws_test",
    catalogue: atelierCatalogue,
    fsync: "none",
    clock: { now: () => workload.now, setTimer: systemClock.setTimer },
  });

/** A workspace folder whose log holds about `events` random events (and ends with the finale when asked). */
export const writeWorkspace = async (dir: string, seed: number, events: number, options: { finale?: boolean } = {}): Promise<EventLog> => {
  const workload = new Workload({ seed });
  const log = await openWorkloadLog(dir, workload);
  while (log.head() < events) await log.append(workload.take(Math.min(200, events - log.head())));
  if (options.finale) await log.append(workload.finale());
  return log;
};

/**
 * A projection file with its schema and no rows, as a server leaves it that opened the workspace
 * while its log was short: opening it catches up from the first event, however long the log is now.
 */
export const emptyProjection = (dir: string): void => {
  const db = openDb(join(dir, "projections.db"), "live");
  migrate(db);
  db.close();
};
