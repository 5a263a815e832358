import { createRequire } from "node:module";
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from "node:worker_threads";
import { BULK_PRAGMAS, PAGE_SIZE } from "../db/open.ts";
import type { AsideSink } from "../engine/applier.ts";
import { insertTimelineSql } from "../engine/timeline.ts";
import { TIMELINE_COLUMNS } from "../projectors/timeline.ts";
import type { SqlValue, Stmt } from "../projectors/sql.ts";
import { removeDb } from "./files.ts";

/** Rows per message to the worker: few messages, each small next to the rebuild's memory. */
const ROWS_PER_MESSAGE = 10_000;
const ROWS_PER_INSERT = 100;

/** The table a statement writes (INSERT INTO t, REPLACE INTO t, UPDATE t, DELETE FROM t). */
const WRITTEN_TABLE = /^\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|REPLACE\s+INTO|UPDATE(?:\s+OR\s+\w+)?|DELETE\s+FROM)\s+"?(\w+)"?/i;

// Plain CommonJS, evaluated in a worker thread: no TypeScript loader needed there. A message is
// a batch: per timeline row seq, type, entity and agent (-1 for none) as numbers, the rows' ts
// joined by newlines, the SQL texts first used in this batch (numbered on from the earlier
// ones), and the statements as [sql number, parameter count, ...parameters]; null ends the load.
// `done[0]` turns 1 when the file is closed or the load failed.
const SOURCE = `
const { workerData } = require("node:worker_threads");
const { driver, path, pragmas, ddl, insertMany, insertOne, rowsPerInsert, port, signal } = workerData;
const done = new Int32Array(signal);
let db;
const finish = (error) => {
  try { if (db && db.open) db.close(); } catch {}
  port.postMessage(error === undefined ? { ok: true } : { error: String((error && error.stack) || error) });
  Atomics.store(done, 0, 1);
  Atomics.notify(done, 0);
  port.close();
};
process.on("uncaughtException", finish);
const Database = require(driver);
db = new Database(path);
for (const pragma of pragmas) db.pragma(pragma);
for (const sql of ddl) db.exec(sql);
const many = db.prepare(insertMany);
const one = db.prepare(insertOne);
const prepared = [];
const load = db.transaction((numbers, ts, sqls, calls) => {
  for (const sql of sqls) prepared.push(db.prepare(sql));
  const values = new Array(rowsPerInsert * 5);
  let row = 0;
  for (; row + rowsPerInsert <= ts.length; row += rowsPerInsert) {
    for (let k = 0; k < rowsPerInsert; k++) put(values, k * 5, numbers, row + k, ts);
    many.run(values);
  }
  const single = new Array(5);
  for (; row < ts.length; row++) { put(single, 0, numbers, row, ts); one.run(single); }
  for (let at = 0; at < calls.length; at += 2 + calls[at + 1]) prepared[calls[at]].run(calls.slice(at + 2, at + 2 + calls[at + 1]));
});
const put = (values, at, numbers, row, ts) => {
  const n = row * 4;
  values[at] = numbers[n];
  values[at + 1] = ts[row];
  values[at + 2] = numbers[n + 1];
  values[at + 3] = numbers[n + 2];
  values[at + 4] = numbers[n + 3] < 0 ? null : numbers[n + 3];
};
port.on("message", (message) => {
  if (message === null) return finish();
  try { load(new Float64Array(message.numbers), message.ts === "" ? [] : message.ts.split("\\n"), message.sqls, message.calls); } catch (error) { finish(error); }
});
`;

/**
 * A rebuild's append-only tables (the timeline, and the `tables` projectors only insert into),
 * built by a worker thread in a file of its own (indexes and triggers kept as rows arrive: the
 * worker's core is otherwise idle) while the main thread applies the other projectors; then the
 * other tables join it there (`buildAside`). At a million events this takes the rebuild from
 * 14.1-15.4 s to ~10 s (ADR 0010). Synchronous like the rebuild: `finish` blocks on the worker.
 */
export class AsideBuilder implements AsideSink {
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly done = new Int32Array(new SharedArrayBuffer(4));
  private readonly tables: ReadonlySet<string>;
  private readonly taken = new Map<string, boolean>();
  private readonly sqlNumbers = new Map<string, number>();
  private numbers = new Float64Array(ROWS_PER_MESSAGE * 4);
  private ts: string[] = [];
  private sqls: string[] = [];
  private calls: SqlValue[] = [];

  /**
   * `ddl`: the CREATE statements of the timeline and of `tables` (tables, then indexes, then
   * triggers), as the rebuilt database has them. Their triggers must write only these tables.
   */
  constructor(
    readonly path: string,
    tables: readonly string[],
    private readonly ddl: readonly string[],
  ) {
    this.tables = new Set(tables);
    removeDb(path);
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    const workerData = {
      driver: createRequire(import.meta.url).resolve("better-sqlite3"),
      path,
      pragmas: [`page_size = ${PAGE_SIZE}`, ...BULK_PRAGMAS, "temp_store = MEMORY"],
      ddl,
      insertMany: insertTimelineSql(ROWS_PER_INSERT),
      insertOne: insertTimelineSql(1),
      rowsPerInsert: ROWS_PER_INSERT,
      port: port2,
      signal: this.done.buffer,
    };
    this.worker = new Worker(SOURCE, { eval: true, workerData, transferList: [port2] });
    this.worker.unref();
  }

  /**
   * Whether `sql` writes a table built here. Decided once per SQL text, which must keep to its
   * side: a statement run here sees no other table, and one run in the main file sees none of these.
   */
  takes(sql: string): boolean {
    let taken = this.taken.get(sql);
    if (taken === undefined) {
      taken = this.tables.has(WRITTEN_TABLE.exec(sql)?.[1] ?? "");
      const seen = [...this.tables].find((table) => new RegExp(`\\b${table}\\b`).test(sql));
      if (taken && /\bSELECT\b/i.test(sql)) throw new Error(`a statement on a table a rebuild builds aside may not read: ${sql}`);
      if (!taken && seen !== undefined) throw new Error(`a statement reads ${seen}, which a rebuild builds aside: ${sql}`);
      this.taken.set(sql, taken);
    }
    return taken;
  }

  run(statement: Stmt): void {
    let number = this.sqlNumbers.get(statement.sql);
    if (number === undefined) {
      number = this.sqlNumbers.size;
      this.sqlNumbers.set(statement.sql, number);
      this.sqls.push(statement.sql);
    }
    this.calls.push(number, statement.params.length, ...statement.params);
  }

  write(values: SqlValue[]): void {
    for (let at = 0; at < values.length; at += TIMELINE_COLUMNS) {
      const n = this.ts.length * 4;
      this.numbers[n] = values[at] as number;
      this.numbers[n + 1] = values[at + 2] as number;
      this.numbers[n + 2] = values[at + 3] as number;
      this.numbers[n + 3] = (values[at + 4] as number | null) ?? -1;
      this.ts.push(values[at + 1] as string);
      if (this.ts.length === ROWS_PER_MESSAGE) this.post();
    }
  }

  /** Ends the load and waits for the worker to close its file, which then holds every row and index. */
  finish(): void {
    this.post();
    this.port.postMessage(null);
    Atomics.wait(this.done, 0, 0);
    const result = receiveMessageOnPort(this.port)?.message as { ok?: true; error?: string } | undefined;
    void this.worker.terminate();
    if (result?.ok !== true) throw new Error(`the rebuild's worker failed: ${result?.error ?? "no answer"}`);
  }

  /** Stops the worker and removes its file (a failed rebuild). */
  abort(): void {
    void this.worker.terminate();
    removeDb(this.path);
  }

  private post(): void {
    if (this.ts.length === 0 && this.calls.length === 0) return;
    const numbers = this.numbers.subarray(0, this.ts.length * 4).slice();
    this.port.postMessage({ numbers: numbers.buffer, ts: this.ts.join("\n"), sqls: this.sqls, calls: this.calls }, [numbers.buffer]);
    this.ts = [];
    this.sqls = [];
    this.calls = [];
  }
}
