import type { Db } from "../db/open.ts";
import { openDb } from "../db/open.ts";
import { Applier } from "../engine/applier.ts";
import { atelierProjectors } from "../projectors/atelier.ts";
import type { Registry } from "../projectors/registry.ts";
import { migrate, type Migration, MIGRATIONS } from "../schema/migrations.ts";
import type { LogSource } from "../source/log-source.ts";
import { removeDb } from "./files.ts";

export type Progress = (done: number, total: number) => void;

export interface BuildOptions {
  /** The projectors (default: those of every actor event). */
  readonly registry?: Registry;
  /** Replay up to this seq (default: the log's head). */
  readonly to?: number;
  /** Events per transaction (default 10,000). */
  readonly batch?: number;
  readonly progress?: Progress;
  readonly migrations?: readonly Migration[];
}

/** Drops the secondary indexes and returns their DDL, so that a bulk load can recreate them once. */
const dropIndexes = (db: Db): string[] => {
  const indexes = db
    .prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name")
    .all() as Array<{ name: string; sql: string }>;
  for (const { name } of indexes) db.exec(`DROP INDEX "${name}"`);
  return indexes.map((index) => index.sql);
};

/**
 * Replays the log into a fresh database file at `path` in large transactions, with no journal
 * (the file is worthless until finished) and indexes built at the end. Returns the last seq.
 */
export const buildAside = (path: string, source: LogSource, options: BuildOptions): number => {
  removeDb(path);
  const db = openDb(path, "bulk");
  try {
    migrate(db, options.migrations ?? MIGRATIONS);
    const indexes = dropIndexes(db);
    const applier = new Applier(db, options.registry ?? atelierProjectors);
    const total = Math.min(options.to ?? source.head(), source.head());
    options.progress?.(0, total);
    applier.applyAll(source.read({ from: 1, to: total }), options.batch ?? 10_000, (seq) => options.progress?.(seq, total));
    db.transaction(() => {
      for (const sql of indexes) db.exec(sql);
    })();
    return applier.seq;
  } finally {
    db.close();
  }
};
