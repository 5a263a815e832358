import { existsSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { joinPath, logDir, nodeStorage, type StorageLock } from "@atelier/events";
import { atelierCatalogue } from "@atelier/actors/machines";
import { isDamaged } from "../db/open.ts";
import { checkProjection } from "../rebuild/check.ts";
import { rebuildProjection } from "../rebuild/rebuild.ts";
import { readWorkspaceLog } from "../source/log-source.ts";
import { type Output, progressBar } from "./progress.ts";

/** Exit codes: 0 fine, 1 the projection differs from the log, 2 the command could not run (said on `err`, like every command's errors). */
export const EXIT = { ok: 0, differs: 1, failed: 2 } as const;

const message = (error: unknown): string => (error instanceof Error ? error.message : String(error));

const requireLog = (dir: string, err: Output): boolean => {
  if (existsSync(logDir(dir))) return true;
  err.write(`atelier: ${dir} is not a workspace folder (no log/ inside)\n`);
  return false;
};

/** The log's writer lock, so that no server appends (or holds the projection) while the file is swapped. */
const takeWriterLock = (dir: string, err: Output): StorageLock | undefined => {
  try {
    return nodeStorage().acquireLock(joinPath(logDir(dir), "writer.lock"), `atelier rebuild (pid ${process.pid})`);
  } catch (error) {
    err.write(`atelier: ${message(error)}; stop the server holding the workspace first\n`);
    return undefined;
  }
};

/**
 * `atelier rebuild <workspace-dir>`: replays the log into a fresh projections.db and swaps it in.
 * Holds the log's writer lock meanwhile, so it refuses to run while a server has the workspace open.
 */
export const runRebuildCommand = async (dir: string, out: Output, err: Output = out): Promise<number> => {
  if (!requireLog(dir, err)) return EXIT.failed;
  const lock = takeWriterLock(dir, err);
  if (lock === undefined) return EXIT.failed;
  const bar = progressBar(out, "rebuild");
  try {
    const started = performance.now(); // clock-ok: wall time for the CLI report
    const { seq, path } = rebuildProjection(dir, readWorkspaceLog(dir, atelierCatalogue), { progress: bar.update });
    bar.end();
    const seconds = (performance.now() - started) / 1000; // clock-ok
    out.write(`rebuilt ${path} from ${seq.toLocaleString("en")} events in ${seconds.toFixed(2)} s (${Math.round(seq / seconds).toLocaleString("en")} events/s)\n`);
    return EXIT.ok;
  } catch (error) {
    bar.end();
    err.write(`atelier: ${message(error)}\n`);
    return EXIT.failed;
  } finally {
    lock.release();
  }
};

/**
 * `atelier check <workspace-dir>`: rebuilds aside up to the live projection's checkpoint and
 * compares canonical dumps table by table. Read-only; safe while a server runs.
 */
export const runCheckCommand = async (dir: string, out: Output, err: Output = out): Promise<number> => {
  if (!requireLog(dir, err)) return EXIT.failed;
  const bar = progressBar(out, "check");
  try {
    const log = readWorkspaceLog(dir, atelierCatalogue);
    const result = checkProjection(dir, log, { progress: bar.update });
    bar.end();
    if (result.ok) {
      out.write(`ok: the projection equals a rebuild from the log at seq ${result.seq}\n`);
      return EXIT.ok;
    }
    out.write(`MISMATCH at seq ${result.seq}: differing tables: ${result.differingTables.join(", ")}\n`);
    const [first] = log.read({ from: 1, to: 1 });
    const served = first === undefined ? "" : ` or, while a server has it open, POST /api/v2/workspaces/${first.ws}/read-models/rebuild (an owner's token)`;
    out.write(`replace the projection by a rebuild from the log: \`atelier rebuild\` on the workspace with its server stopped${served}\n`);
    return EXIT.differs;
  } catch (error) {
    bar.end();
    if (isDamaged(error)) {
      out.write(`DAMAGED: the projection file cannot be read (${message(error)})\n`);
      out.write("run `atelier rebuild` on the workspace to replace the projection (a server replaces it on its own when it opens the workspace or a query finds the damage)\n");
      return EXIT.differs;
    }
    err.write(`atelier: ${message(error)}\n`);
    return EXIT.failed;
  }
};
