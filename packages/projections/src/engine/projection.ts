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
  /**
   * Told when the open file is being replaced by a rebuild from the log (`started`: SQLite found
   * it damaged, with what found it, or it was asked for), and when that has ended (`done`, or
   * `failed` with why).
   */
  readonly onLiveRebuild?: (rebuild: LiveRebuild) => void;
}

export type LiveRebuild =
  | { readonly phase: "started"; readonly reason: "damaged"; readonly cause: unknown }
  | { readonly phase: "started"; readonly reason: "requested" }
  | { readonly phase: "done"; readonly seq: number }
  | { readonly phase: "failed"; readonly error: unknown };

/**
 * Queries refused while the open file is replaced by a rebuild from the log, or after that
 * rebuild failed (the next commit or query tries again).
 */
export class ProjectionUnavailable extends Error {
  constructor(readonly failure?: unknown) {
    super(
      failure === undefined
        ? "the read models are being rebuilt from the log"
        : `the read models could not be rebuilt from the log: ${failure instanceof Error ? failure.message : String(failure)}`,
    );
  }
}

/** Why the file was rebuilt: on open (all but `requested`), or while open (`damaged`, `requested`). */
export type RebuildReason = "missing" | "schema" | "projectors" | "ahead-of-log" | "diverged-from-log" | "damaged" | "requested";
type Replacement = Extract<LiveRebuild, { phase: "started" }>;

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

/** The open file: its connection, the applier on it, and its checkpoints. */
interface LiveFile {
  readonly db: Db;
  readonly applier: Applier;
  /** None for an in-memory database: it has no WAL, and a second connection would open another, empty one. */
  readonly checkpointer: Checkpointer | undefined;
}

/**
 * A workspace's read models: a SQLite file kept equal to a fold of the log. It is caught up on
 * open and then follows the log's commits; it never holds an event the log has not committed.
 * While open, the file can be replaced by a rebuild from the log, as an open replaces a stale
 * one: when SQLite finds it damaged (a live apply, or a query: `repair`), or on request
 * (`rebuild`). Meanwhile queries are refused and the log goes on.
 */
export class Projection {
  private file: LiveFile;
  private readonly listeners = new Set<(seq: number) => void>();
  private readonly unsubscribe: () => void;
  private failure: unknown;
  private replacing: Promise<void> | undefined;
  /** A replacement that failed, and why: tried again on the next commit or query, cleared by one that succeeds. */
  private failed: { readonly replacement: Replacement; readonly error: unknown } | undefined;
  private reason: RebuildReason | undefined;

  constructor(
    db: Db,
    private readonly log: LiveLogSource,
    private readonly options: ProjectionOptions,
    /** Why opening had to rebuild the file, if it did. */
    rebuilt: RebuildReason | undefined,
  ) {
    this.reason = rebuilt;
    this.file = this.fileOn(db);
    this.catchUp();
    this.unsubscribe = log.onCommit((events) => this.receive(events));
  }

  /** Why the file was last rebuilt by this projection (its open, or a replacement while open), if it was. */
  get rebuilt(): RebuildReason | undefined {
    return this.reason;
  }

  get db(): Db {
    return this.file.db;
  }

  /** The last applied seq. */
  get seq(): number {
    return this.file.applier.seq;
  }

  /** The last error applying live events, cleared once a later apply succeeds. */
  get error(): unknown {
    return this.failure;
  }

  /** Resolves when no replacement is under way (at once when none is). */
  get ready(): Promise<void> {
    return this.replacing ?? Promise.resolve();
  }

  /**
   * A cached prepared statement, for queries; refused (`ProjectionUnavailable`) while the file is
   * being replaced, or after that failed (and then the replacement is tried again).
   */
  statement(sql: string): Database.Statement {
    if (this.replacing !== undefined) throw new ProjectionUnavailable();
    if (this.failed !== undefined) {
      const { replacement, error } = this.failed;
      this.replace(replacement);
      throw new ProjectionUnavailable(error);
    }
    return this.file.applier.statements.get(sql);
  }

  /** Calls `listener` with the new checkpoint after each committed apply. */
  onApplied(listener: (seq: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Applies every committed event past the checkpoint. */
  catchUp(): void {
    const { applier } = this.file;
    const head = this.log.head();
    if (head <= applier.seq) return;
    const total = head;
    applier.applyAll(this.log.read({ from: applier.seq + 1, to: head }), this.options.batch ?? 10_000, (seq) => this.options.progress?.(seq, total));
    this.notify();
  }

  /**
   * Replaces the file by a rebuild from the log when `error` (thrown by a query or an apply) is
   * SQLite finding it damaged; returns whether it is being replaced. An in-memory database has
   * no file to rebuild.
   */
  repair(error: unknown): boolean {
    if (!isDamaged(error) || this.file.db.memory) return false;
    this.replace({ phase: "started", reason: "damaged", cause: error });
    return true;
  }

  /**
   * Replaces the file by a rebuild from the log (rows that differ from it, as `atelier check`
   * reports, are gone after); resolves once the new file has caught up with the log. Joins a
   * replacement under way. Throws `ProjectionUnavailable` with why if the rebuild failed.
   */
  async rebuild(): Promise<void> {
    this.replace({ phase: "started", reason: "requested" });
    await this.replacing;
    if (this.failed !== undefined) throw new ProjectionUnavailable(this.failed.error);
  }

  /** One replacement runs at a time. */
  private replace(replacement: Replacement): void {
    this.replacing ??= this.replaceFile(replacement).finally(() => (this.replacing = undefined));
  }

  private fileOn(db: Db): LiveFile {
    return { db, applier: new Applier(db, this.options.registry ?? atelierProjectors), checkpointer: db.memory ? undefined : new Checkpointer(db.name) };
  }

  private async replaceFile(replacement: Replacement): Promise<void> {
    const path = this.file.db.name;
    this.options.onLiveRebuild?.(replacement);
    try {
      await this.detach();
      this.file = this.fileOn(await rebuildAndOpen(path, this.log, this.options));
      this.catchUp();
      this.reason = replacement.reason;
      this.failed = undefined;
      this.failure = undefined;
      this.options.onLiveRebuild?.({ phase: "done", seq: this.seq });
    } catch (error) {
      this.failed = { replacement, error };
      this.options.onLiveRebuild?.({ phase: "failed", error });
    }
  }

  private receive(events: readonly Envelope[]): void {
    // A replacement catches up to the head once it has rebuilt; a failed one is tried again.
    if (this.replacing !== undefined) return;
    if (this.failed !== undefined) return this.replace(this.failed.replacement);
    try {
      if ((events[0]?.seq ?? 0) > this.seq + 1) this.catchUp();
      else {
        this.file.applier.apply(events);
        this.notify();
      }
      this.failure = undefined;
    } catch (error) {
      this.failure = error;
      this.options.onError?.(error);
      this.repair(error);
    }
  }

  private notify(): void {
    for (const listener of this.listeners) listener(this.seq);
  }

  /** Stops checkpointing the file and closes it (WAL folded in). */
  private async detach(): Promise<void> {
    await this.file.checkpointer?.stop();
    if (this.file.db.open) this.file.db.close();
  }

  /** Stops following and closes the file (WAL folded in), after a replacement under way. */
  async close(): Promise<void> {
    this.unsubscribe();
    await this.replacing;
    await this.detach();
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
    return following(await rebuildAndOpen(path, log, options), log, options, "damaged");
  }
};

/** The projection on the open file `db`, which it closes should the catch-up fail. */
const following = (db: Db, log: LiveLogSource, options: ProjectionOptions, rebuilt: RebuildReason | undefined): Projection => {
  try {
    return new Projection(db, log, options, rebuilt);
  } catch (error) {
    if (db.open) db.close();
    throw error;
  }
};

/**
 * Rebuilds the file at `path` from the log aside and swaps it in (a damaged file is replaced, not
 * repaired: read models are a function of the log); returns it open.
 */
const rebuildAndOpen = async (path: string, log: LogSource, options: ProjectionOptions): Promise<Db> => {
  await rebuild(path, log, options);
  return openDb(path, "live");
};

const rebuild = (path: string, log: LogSource, options: ProjectionOptions) =>
  runStepsGivingWay(rebuildSteps(path, log, options), options.giveWay);

/** The open of `openProjection`: migrates the file, and rebuilds it when it is stale. */
const openChecked = async (path: string, log: LiveLogSource, options: ProjectionOptions): Promise<Projection> => {
  let db = openDb(path, "live");
  let reason: RebuildReason | undefined;
  try {
    const migrated = migrate(db, options.migrations ?? MIGRATIONS);
    reason = migrated.replay
      ? "schema"
      : migrated.from === 0
        ? log.head() >= REBUILD_NEW_FILE_MIN ? "missing" : undefined
        : staleness(readCheckpoint(db), log, options.registry ?? atelierProjectors);
    if (reason !== undefined) {
      db.close();
      // Just created, it holds nothing: an interrupted rebuild must leave it missing (rebuilt at the
      // next open), not an empty file with a checkpoint (caught up event by event, ~6x slower).
      if (reason === "missing") removeDb(path);
      await rebuild(path, log, options);
      db = openDb(path, "live");
    }
  } catch (error) {
    if (db.open) db.close();
    throw error;
  }
  return following(db, log, options, reason);
};
