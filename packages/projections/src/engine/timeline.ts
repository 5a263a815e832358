import type { Envelope } from "@atelier/events";
import { pushTimelineRow, TIMELINE_COLUMNS } from "../projectors/timeline.ts";
import type { SqlValue } from "../projectors/sql.ts";
import type { StatementCache } from "./statements.ts";

const ROWS_PER_INSERT = 100;

const insertSql = (rows: number): string =>
  `INSERT INTO timeline (seq, ts, type, entity, agent) VALUES ${Array.from({ length: rows }, () => "(?, ?, ?, ?, ?)").join(", ")}`;

/**
 * The timeline index row of every event, written in multi-row inserts: nothing reads the timeline
 * while a transaction applies, so its rows may trail the projectors' until `flush` (before commit).
 */
export class TimelineWriter {
  private values: SqlValue[] = [];

  constructor(private readonly statements: StatementCache) {}

  add(event: Envelope): void {
    pushTimelineRow(this.values, event);
    if (this.values.length === ROWS_PER_INSERT * TIMELINE_COLUMNS) this.flush();
  }

  flush(): void {
    if (this.values.length === 0) return;
    this.statements.get(insertSql(this.values.length / TIMELINE_COLUMNS)).run(this.values);
    this.values = [];
  }

  /** Drops rows of a transaction that rolled back. */
  discard(): void {
    this.values = [];
  }
}
