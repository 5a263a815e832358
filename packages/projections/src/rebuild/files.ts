import { closeSync, existsSync, fsyncSync, openSync, renameSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import Database from "better-sqlite3";

/** `<dir>/projections.db` for a workspace folder; a path ending in `.db` is taken as the file itself. */
export const projectionPath = (target: string): string => (target.endsWith(".db") ? target : join(target, "projections.db"));

const SIDE_FILES = ["-wal", "-shm", "-journal"];

/** Deletes a database file and its journals. */
export const removeDb = (path: string): void => {
  for (const suffix of ["", ...SIDE_FILES]) rmSync(path + suffix, { force: true });
};

const fsyncPath = (path: string, flags: string): void => {
  const fd = openSync(path, flags);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
};

/**
 * Folds a database's WAL into its main file and removes the side files, so none can attach to
 * the file that replaces it. A file SQLite cannot open is about to be replaced anyway.
 */
const settle = (path: string): void => {
  if (existsSync(path)) {
    try {
      const db = new Database(path);
      db.pragma("wal_checkpoint(TRUNCATE)");
      db.close();
    } catch {
      // Unreadable: replaced below.
    }
  }
  for (const suffix of SIDE_FILES) rmSync(path + suffix, { force: true });
};

/** Makes the finished file at `aside` durable, then atomically renames it over `target`. */
export const swapIn = (aside: string, target: string): void => {
  fsyncPath(aside, "r+");
  settle(target);
  renameSync(aside, target);
  fsyncPath(dirname(target), "r");
};
