import { renameSync } from "node:fs";
import { openDb, type Db } from "../db/open.ts";
import { Applier } from "../engine/applier.ts";
import { atelierProjectors } from "../projectors/atelier.ts";
import type { Registry } from "../projectors/registry.ts";
import { migrate, type Migration, MIGRATIONS } from "../schema/migrations.ts";
import type { LogSource } from "../source/log-source.ts";
import { removeDb } from "./files.ts";
import { runSteps, type Steps } from "./steps.ts";
import { AsideBuilder } from "./aside-builder.ts";

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
  /** Build the append-only tables in a worker thread (default: from WORKER_MIN events on). */
  readonly worker?: boolean;
}

/** Below this many events a worker's start costs more than it saves. */
const WORKER_MIN = 20_000;

/**
 * What the worker builds: the timeline (the engine's rows) and the tables projectors only insert
 * into, with what their triggers write. No projector reads them and their triggers write nothing
 * else, so they can be built apart from the rest and in the same order (ADR 0010).
 */
const BUILT_ASIDE = ["timeline", "messages", "message_counts"];
const builtAside = (table: string): boolean => BUILT_ASIDE.includes(table);

/** The CREATE statements of the tables built aside: tables, then indexes, then triggers. */
const asideDdl = (db: Db): string[] =>
  (
    db
      .prepare(
        `SELECT sql FROM sqlite_master WHERE tbl_name IN (${BUILT_ASIDE.map(() => "?").join(", ")}) AND sql IS NOT NULL
         ORDER BY CASE type WHEN 'table' THEN 0 WHEN 'index' THEN 1 ELSE 2 END, name`,
      )
      .all(...BUILT_ASIDE) as Array<{ sql: string }>
  ).map((r) => r.sql);

type Index = { table: string; sql: string };

/** Drops the secondary indexes and returns them, so that a bulk load can recreate them once. */
const dropIndexes = (db: Db): Index[] => {
  const indexes = db
    .prepare("SELECT name, tbl_name AS \"table\", sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name")
    .all() as Array<{ name: string } & Index>;
  for (const { name } of indexes) db.exec(`DROP INDEX "${name}"`);
  return indexes;
};

const createIndexes = (db: Db, indexes: readonly Index[]): void => {
  db.transaction(() => {
    for (const index of indexes) db.exec(index.sql);
  })();
};

/**
 * Moves every table not built aside from the finished file at `from` into the worker's file
 * `into`, then puts that file at `from`'s path. The smaller side moves: the timeline's and the
 * messages' rows (1.19M at a million events) and their index b-trees stay where they are (ADR 0010).
 * Tables are copied into empty twins without triggers or indexes, so SQLite copies their records
 * as they are; `indexes` and the triggers come after, as in any bulk load.
 */
const assemble = (into: string, from: string, indexes: readonly Index[]): void => {
  const db = openDb(into, "bulk");
  try {
    db.prepare("ATTACH DATABASE ? AS built").run(from);
    const objects = (
      db
        .prepare("SELECT type, name, tbl_name AS \"table\", sql FROM built.sqlite_master WHERE sql IS NOT NULL AND type IN ('table', 'trigger') ORDER BY rowid")
        .all() as Array<{ type: string; name: string; table: string; sql: string }>
    ).filter((o) => !builtAside(o.table));
    const version = db.pragma("built.user_version", { simple: true }) as number;
    db.transaction(() => {
      for (const table of objects.filter((o) => o.type === "table")) {
        db.exec(table.sql);
        db.exec(`INSERT INTO main."${table.name}" SELECT * FROM built."${table.name}"`);
      }
      for (const index of indexes) db.exec(index.sql);
      for (const trigger of objects.filter((o) => o.type === "trigger")) db.exec(trigger.sql);
      db.pragma(`user_version = ${version}`);
    })();
    db.exec("DETACH DATABASE built");
  } finally {
    db.close();
  }
  removeDb(from);
  renameSync(into, from);
};

/**
 * Replays the log into a fresh database file at `path` in large transactions, with no journal
 * (the file is worthless until finished) and indexes built at the end. Returns the last seq.
 */
export const buildAside = (path: string, source: LogSource, options: BuildOptions): number => runSteps(buildAsideSteps(path, source, options));

/** `buildAside` one transaction at a time (`runStepsGivingWay`). */
export function* buildAsideSteps(path: string, source: LogSource, options: BuildOptions): Steps<number> {
  removeDb(path);
  const db = openDb(path, "bulk");
  let aside: AsideBuilder | undefined;
  let indexes: Index[];
  let seq: number | undefined;
  try {
    migrate(db, options.migrations ?? MIGRATIONS);
    const total = Math.min(options.to ?? source.head(), source.head());
    if (options.worker ?? total >= WORKER_MIN) aside = new AsideBuilder(`${path}.aside`, BUILT_ASIDE, asideDdl(db));
    indexes = dropIndexes(db);
    const applier = new Applier(db, options.registry ?? atelierProjectors, aside);
    options.progress?.(0, total);
    for (const reached of applier.applySteps(source.read({ from: 1, to: total }), options.batch ?? 10_000)) {
      options.progress?.(reached, total);
      yield;
    }
    if (aside === undefined) createIndexes(db, indexes);
    seq = applier.seq;
  } finally {
    // Unfinished (an error, or the caller stopped between steps): the worker's file goes too.
    if (seq === undefined) aside?.abort();
    db.close();
  }
  if (aside !== undefined) {
    try {
      aside.finish();
      assemble(aside.path, path, indexes.filter((index) => !builtAside(index.table)));
    } catch (error) {
      aside.abort();
      throw error;
    }
  }
  return seq;
}
