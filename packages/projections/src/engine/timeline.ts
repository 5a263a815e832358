import type { Envelope } from "@atelier/events";
import { pushTimelineRow, TIMELINE_COLUMNS } from "../projectors/timeline.ts";
import type { SqlValue } from "../projectors/sql.ts";
import type { StatementCache } from "./statements.ts";

const ROWS_PER_INSERT = 100;
const NAMES = "SELECT id, name FROM timeline_names";
const ADD_NAME = "INSERT INTO timeline_names (id, name) VALUES (?, ?)";

/** A multi-row insert of `rows` timeline rows (TIMELINE_COLUMNS values each). */
export const insertTimelineSql = (rows: number): string =>
  `INSERT INTO timeline (seq, ts, type, entity, agent) VALUES ${Array.from({ length: rows }, () => "(?, ?, ?, ?, ?)").join(", ")}`;

/** Where finished timeline rows go: the database's own table, or a rebuild's worker (`AsideSink`). */
export interface TimelineSink {
  /** Rows, TIMELINE_COLUMNS values each; the array is the sink's to keep. */
  write(values: SqlValue[]): void;
}

const tableSink = (statements: StatementCache): TimelineSink => ({
  write: (values) => void statements.get(insertTimelineSql(values.length / TIMELINE_COLUMNS)).run(values),
});

/**
 * The timeline index row of every event, written in multi-row inserts: nothing reads the timeline
 * while a transaction applies, so its rows may trail the projectors' until `flush` (before commit).
 * Types, entities and agents are stored as ids of `timeline_names`, numbered in order of first
 * appearance, so incremental and rebuilt projections number them alike.
 */
export class TimelineWriter {
  private values: SqlValue[] = [];
  private names = new Map<string, number>();
  private readonly code = (name: string): number => {
    let id = this.names.get(name);
    if (id === undefined) {
      id = this.names.size + 1;
      this.names.set(name, id);
      this.statements.get(ADD_NAME).run(id, name);
    }
    return id;
  };

  private readonly sink: TimelineSink;

  constructor(
    private readonly statements: StatementCache,
    sink?: TimelineSink,
  ) {
    this.sink = sink ?? tableSink(statements);
    this.loadNames();
  }

  add(event: Envelope): void {
    pushTimelineRow(this.values, event, this.code);
    if (this.values.length === ROWS_PER_INSERT * TIMELINE_COLUMNS) this.flush();
  }

  flush(): void {
    if (this.values.length === 0) return;
    this.sink.write(this.values);
    this.values = [];
  }

  /** Drops rows (and names) of a transaction that rolled back. */
  discard(): void {
    this.values = [];
    this.loadNames();
  }

  private loadNames(): void {
    const rows = this.statements.get(NAMES).all() as Array<{ id: number; name: string }>;
    this.names = new Map(rows.map((r) => [r.name, r.id]));
  }
}
