import type { Envelope } from "@atelier/events";
import type { Db } from "../db/open.ts";
import type { Registry } from "../projectors/registry.ts";
import type { Stmt } from "../projectors/sql.ts";
import { CHECKPOINT_SQL, readCheckpoint } from "./checkpoint.ts";
import { StatementCache } from "./statements.ts";
import { TimelineWriter, type TimelineSink } from "./timeline.ts";

export class ProjectionGap extends Error {
  constructor(readonly expected: number, readonly got: number) {
    super(`projection expected seq ${expected} next, got ${got}`);
  }
}

/**
 * Where a rebuild's worker takes what it builds in a file of its own: the timeline's rows, and the
 * statements of the tables it builds (`takes`), run there in the order given (`AsideBuilder`).
 */
export interface AsideSink extends TimelineSink {
  takes(sql: string): boolean;
  run(statement: Stmt): void;
}

/**
 * Applies events to one database: each batch's rows (the projectors' and the timeline's) and the
 * checkpoint move in one transaction, so after any crash the tables hold exactly the events up to
 * the stored checkpoint.
 */
export class Applier {
  readonly statements: StatementCache;
  private readonly timeline: TimelineWriter;
  private applied: number;

  /** `aside`: a rebuild's worker, which takes the timeline's rows and the statements of its tables. */
  constructor(private readonly db: Db, private readonly registry: Registry, private readonly aside?: AsideSink) {
    this.statements = new StatementCache(db);
    this.timeline = new TimelineWriter(this.statements, aside);
    const checkpoint = readCheckpoint(db);
    if (checkpoint === undefined) this.statements.get(CHECKPOINT_SQL).run(0, "", registry.version);
    this.applied = checkpoint?.seq ?? 0;
  }

  /** The last applied seq. */
  get seq(): number {
    return this.applied;
  }

  /**
   * Applies `events` (seq-ordered) in one transaction. Events at or below the checkpoint are
   * skipped; a gap, or a projector that throws, rolls the whole batch back.
   */
  apply(events: readonly Envelope[]): void {
    let last: Envelope | undefined;
    let next = this.applied;
    try {
      this.db.transaction(() => {
        for (const event of events) {
          if (event.seq <= next) continue;
          if (event.seq !== next + 1) throw new ProjectionGap(next + 1, event.seq);
          for (const statement of this.registry.project(event)) {
            if (this.aside?.takes(statement.sql)) this.aside.run(statement);
            else this.statements.run(statement);
          }
          this.timeline.add(event);
          next = event.seq;
          last = event;
        }
        this.timeline.flush();
        if (last !== undefined) this.statements.get(CHECKPOINT_SQL).run(last.seq, last.hash, this.registry.version);
      })();
    } catch (error) {
      this.timeline.discard();
      throw error;
    }
    this.applied = next;
  }

  /** Applies `source` in transactions of `batch` events, calling `progress` after each commit. */
  applyAll(source: Iterable<Envelope>, batch: number, progress?: (seq: number) => void): void {
    for (const seq of this.applySteps(source, batch)) progress?.(seq);
  }

  /** `applyAll` one transaction at a time: yields the seq reached after each commit. */
  *applySteps(source: Iterable<Envelope>, batch: number): Generator<number, void> {
    let pending: Envelope[] = [];
    for (const event of source) {
      pending.push(event);
      if (pending.length >= batch) {
        this.apply(pending);
        pending = [];
        yield this.applied;
      }
    }
    if (pending.length > 0) {
      this.apply(pending);
      yield this.applied;
    }
  }
}
