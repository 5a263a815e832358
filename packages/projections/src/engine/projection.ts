import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import type Database from "better-sqlite3";
import type { Envelope } from "@atelier/events";
import { type Db, isDamaged, openDb } from "../db/open.ts";
import { atelierProjectors } from "../projectors/atelier.ts";
import type { Registry } from "../projectors/registry.ts";
import type { BuildOptions } from "../rebuild/build.ts";
import { projectionPath, removeDb } from "../rebuild/files.ts";
import { rebuildSteps } from "../rebuild/rebuild.ts";
import { runStepsGivingWay } from "../rebuild/steps.ts";
import { migrate, MIGRATIONS } from "../schema/migrations.ts";
import type { LiveLogSource, LogSource } from "../source/log-source.ts";
import { Applier } from "./applier.ts";
import { Checkpointer } from "./checkpointer.ts";
import { type Checkpoint, readCheckpoint } from "./checkpoint.ts";

export interface ProjectionOptions extends Omit<BuildOptions, "to"> {
  /** Called when applying live events fails; the projection stays at its checkpoint and retries on the next commit. */
  readonly onError?: (error: unknown) => void;
  /**
   * Awaited between a rebuild's transactions (10k events, ~0.1 s), so that a server answers
   * while opening rebuilds a large file. Without it the rebuild runs straight through.
   */
  readonly giveWay?: (() => Promise<void>) | undefined;
}

/** Why opening rebuilt the file, if it did. */
export type RebuildReason = "missing" | "schema" | "projectors" | "ahead-of-log" | "diverged-from-log" | "damaged";

/**
 * From this many events on, a new file is filled by a rebuild rather than caught up: the rebuild
 * loads without a journal and builds its indexes once, ~6x faster per event (1M events: ~9 s
 * instead of ~58 s). Below it the catch-up is quick and spares the swap.
 */
const REBUILD_NEW_FILE_MIN = 1_000;

const hashAt = (log: LogSource, seq: number): string | undefined => {
  for (const event of log.read({ from: seq, to: seq })) return event.hash;
  return undefined;
};

/** Whether the file's rows cannot be caught up from the log and must be replayed. */
const staleness = (checkpoint: Checkpoint | undefined, log: LogSource, registry: Registry): RebuildReason | undefined => {
  if (checkpoint === undefined) return undefined;
  if (checkpoint.projectors !== registry.version) return "projectors";
  if (checkpoint.seq > log.head()) return "ahead-of-log";
  if (checkpoint.seq > 0 && hashAt(log, checkpoint.seq) !== checkpoint.hash) return "diverged-from-log";
  return undefined;
};

/**
 * A workspace's read models: a SQLite file kept equal to a fold of the log. It is caught up on
 * open and then follows the log's commits; it never holds an event the log has not committed.
 */
export class Projection {
  private readonly applier: Applier;
  private readonly listeners = new Set<(seq: number) => void>();
  private readonly unsubscribe: () => void;
  /** None for an in-memory database: it has no WAL, and a second connection would open another, empty one. */
  private readonly checkpointer: Checkpointer | undefined;
  private failure: unknown;

  constructor(
    readonly db: Db,
    private readonly log: LiveLogSource,
    private readonly options: ProjectionOptions,
    /** Set when opening had to rebuild the file. */
    readonly rebuilt: RebuildReason | undefined,
  ) {
    this.applier = new Applier(db, options.registry ?? atelierProjectors);
    this.catchUp();
    this.unsubscribe = log.onCommit((events) => this.receive(events));
    this.checkpointer = db.memory ? undefined : new Checkpointer(db.name);
  }

  /** The last applied seq. */
  get seq(): number {
    return this.applier.seq;
  }

  /** The last error applying live events, cleared once a later apply succeeds. */
  get error(): unknown {
    return this.failure;
  }

  /** A cached prepared statement, for queries. */
  statement(sql: string): Database.Statement {
    return this.applier.statements.get(sql);
  }

  /** Calls `listener` with the new checkpoint after each committed apply. */
  onApplied(listener: (seq: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Applies every committed event past the checkpoint. */
  catchUp(): void {
    const head = this.log.head();
    if (head <= this.applier.seq) return;
    const total = head;
    this.applier.applyAll(this.log.read({ from: this.applier.seq + 1, to: head }), this.options.batch ?? 10_000, (seq) =>
      this.options.progress?.(seq, total),
    );
    this.notify();
  }

  private receive(events: readonly Envelope[]): void {
    try {
      if ((events[0]?.seq ?? 0) > this.applier.seq + 1) this.catchUp();
      else {
        this.applier.apply(events);
        this.notify();
      }
      this.failure = undefined;
    } catch (error) {
      this.failure = error;
      this.options.onError?.(error);
    }
  }

  private notify(): void {
    for (const listener of this.listeners) listener(this.applier.seq);
  }

  /** Stops following and closes the file (WAL folded in). */
  async close(): Promise<void> {
    this.unsubscribe();
    await this.checkpointer?.stop();
    if (this.db.open) this.db.close();
  }
}

/**
 * Opens (creating or migrating) the projection of a workspace folder or `.db` path, rebuilds it
 * when its schema, its projector version or its position in the log says so, catches up, and
 * follows `log`.
 */
export const openProjection = async (target: string, log: LiveLogSource, options: ProjectionOptions = {}): Promise<Projection> => {
  const path = projectionPath(target);
  mkdirSync(dirname(path), { recursive: true });
  try {
    return await openChecked(path, log, options);
  } catch (error) {
    if (!isDamaged(error)) throw error;
    // Read models are a function of the log, so a damaged file is replaced, not repaired.
    removeDb(path);
    await rebuild(path, log, options);
    return openChecked(path, log, options, "damaged");
  }
};

const rebuild = (path: string, log: LogSource, options: ProjectionOptions) =>
  runStepsGivingWay(rebuildSteps(path, log, options), options.giveWay);

/** The open of `openProjection` (`rebuilt`: why the caller rebuilt the file first). */
const openChecked = async (path: string, log: LiveLogSource, options: ProjectionOptions, rebuilt?: RebuildReason): Promise<Projection> => {
  let db = openDb(path, "live");
  try {
    const migrated = migrate(db, options.migrations ?? MIGRATIONS);
    const reason =
      rebuilt ??
      (migrated.replay
        ? "schema"
        : migrated.from === 0
          ? log.head() >= REBUILD_NEW_FILE_MIN ? "missing" : undefined
          : staleness(readCheckpoint(db), log, options.registry ?? atelierProjectors));
    if (reason !== undefined && rebuilt === undefined) {
      db.close();
      // Just created, it holds nothing: an interrupted rebuild must leave it missing (rebuilt at the
      // next open), not an empty file with a checkpoint (caught up event by event, ~6x slower).
      if (reason === "missing") removeDb(path);
      await rebuild(path, log, options);
      db = openDb(path, "live");
    }
    return new Projection(db, log, options, reason);
  } catch (error) {
    if (db.open) db.close();
    throw error;
  }
};
