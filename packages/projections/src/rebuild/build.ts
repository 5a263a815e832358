import { renameSync } from "node:fs";
import { openDb, type Db } from "../db/open.ts";
import { Applier } from "../engine/applier.ts";
import { atelierProjectors } from "../projectors/atelier.ts";
import type { Registry } from "../projectors/registry.ts";
import { migrate, type Migration, MIGRATIONS } from "../schema/migrations.ts";
import type { LogSource } from "../source/log-source.ts";
import { removeDb } from "./files.ts";
import { runSteps, type Steps } from "./steps.ts";
import { TimelineBuilder } from "./timeline-builder.ts";

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
  /** Build the timeline in a worker thread (default: from TIMELINE_WORKER_MIN events on). */
  readonly timelineWorker?: boolean;
}

/** Below this many events a worker's start costs more than it saves. */
const TIMELINE_WORKER_MIN = 20_000;

/** The timeline table's and its indexes' CREATE statements, table first. */
const timelineDdl = (db: Db): string[] =>
  (db.prepare("SELECT sql FROM sqlite_master WHERE tbl_name = 'timeline' AND sql IS NOT NULL ORDER BY type DESC, name").all() as Array<{ sql: string }>).map((r) => r.sql);

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
 * Moves every table but the timeline from the finished file at `from` into the timeline worker's
 * file `into`, then puts that file at `from`'s path. The smaller side moves: ~250k rows at a
 * million events instead of the timeline's million and its four index b-trees (ADR 0010).
 * Tables are copied into empty twins without triggers or indexes, so SQLite copies their records
 * as they are; `indexes` and the triggers come after, as in any bulk load.
 */
const assemble = (into: string, from: string, indexes: readonly Index[]): void => {
  const db = openDb(into, "bulk");
  try {
    db.prepare("ATTACH DATABASE ? AS built").run(from);
    const objects = db
      .prepare("SELECT type, name, sql FROM built.sqlite_master WHERE sql IS NOT NULL AND tbl_name <> 'timeline' AND type IN ('table', 'trigger') ORDER BY rowid")
      .all() as Array<{ type: string; name: string; sql: string }>;
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
  let timeline: TimelineBuilder | undefined;
  let indexes: Index[];
  let seq: number | undefined;
  try {
    migrate(db, options.migrations ?? MIGRATIONS);
    const total = Math.min(options.to ?? source.head(), source.head());
    if (options.timelineWorker ?? total >= TIMELINE_WORKER_MIN) timeline = new TimelineBuilder(`${path}.timeline`, timelineDdl(db));
    indexes = dropIndexes(db);
    const applier = new Applier(db, options.registry ?? atelierProjectors, timeline);
    options.progress?.(0, total);
    for (const reached of applier.applySteps(source.read({ from: 1, to: total }), options.batch ?? 10_000)) {
      options.progress?.(reached, total);
      yield;
    }
    if (timeline === undefined) createIndexes(db, indexes);
    seq = applier.seq;
  } finally {
    // Unfinished (an error, or the caller stopped between steps): the worker's file goes too.
    if (seq === undefined) timeline?.abort();
    db.close();
  }
  if (timeline !== undefined) {
    try {
      timeline.finish();
      assemble(timeline.path, path, indexes.filter((index) => index.table !== "timeline"));
    } catch (error) {
      timeline.abort();
      throw error;
    }
  }
  return seq;
}
