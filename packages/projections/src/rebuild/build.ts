import type { Db } from "../db/open.ts";
import { openDb } from "../db/open.ts";
import { Applier } from "../engine/applier.ts";
import { atelierProjectors } from "../projectors/atelier.ts";
import type { Registry } from "../projectors/registry.ts";
import { migrate, type Migration, MIGRATIONS } from "../schema/migrations.ts";
import type { LogSource } from "../source/log-source.ts";
import { removeDb } from "./files.ts";
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

/** Drops the secondary indexes and returns them, so that a bulk load can recreate them once. */
const dropIndexes = (db: Db): Array<{ table: string; sql: string }> => {
  const indexes = db
    .prepare("SELECT name, tbl_name AS \"table\", sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name")
    .all() as Array<{ name: string; table: string; sql: string }>;
  for (const { name } of indexes) db.exec(`DROP INDEX "${name}"`);
  return indexes;
};

/**
 * Replays the log into a fresh database file at `path` in large transactions, with no journal
 * (the file is worthless until finished) and indexes built at the end. Returns the last seq.
 */
export const buildAside = (path: string, source: LogSource, options: BuildOptions): number => {
  removeDb(path);
  const db = openDb(path, "bulk");
  let timeline: TimelineBuilder | undefined;
  try {
    migrate(db, options.migrations ?? MIGRATIONS);
    const total = Math.min(options.to ?? source.head(), source.head());
    if (options.timelineWorker ?? total >= TIMELINE_WORKER_MIN) timeline = new TimelineBuilder(`${path}.timeline`, timelineDdl(db));
    const indexes = dropIndexes(db);
    const applier = new Applier(db, options.registry ?? atelierProjectors, timeline);
    options.progress?.(0, total);
    applier.applyAll(source.read({ from: 1, to: total }), options.batch ?? 10_000, (seq) => options.progress?.(seq, total));
    if (timeline !== undefined) {
      // The timeline's indexes first, on its empty table, so that the copy brings their b-trees along.
      db.transaction(() => {
        for (const index of indexes) if (index.table === "timeline") db.exec(index.sql);
      })();
      timeline.copyInto(db);
    }
    db.transaction(() => {
      for (const index of indexes) if (timeline === undefined || index.table !== "timeline") db.exec(index.sql);
    })();
    return applier.seq;
  } catch (error) {
    timeline?.abort();
    throw error;
  } finally {
    db.close();
  }
};
