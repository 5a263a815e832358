import { createRequire } from "node:module";
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from "node:worker_threads";
import { BULK_PRAGMAS, PAGE_SIZE } from "../db/open.ts";
import { insertTimelineSql, type TimelineSink } from "../engine/timeline.ts";
import { TIMELINE_COLUMNS } from "../projectors/timeline.ts";
import type { SqlValue } from "../projectors/sql.ts";
import { removeDb } from "./files.ts";

/** Rows per message to the worker: few messages, each small next to the rebuild's memory. */
const ROWS_PER_MESSAGE = 10_000;
const ROWS_PER_INSERT = 100;

// Plain CommonJS, evaluated in a worker thread: no TypeScript loader needed there. A message is
// a batch: per row seq, type, entity and agent (-1 for none) as numbers, and the rows' ts joined
// by newlines; null ends the load. `done[0]` turns 1 when the file is closed or the load failed.
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
const load = db.transaction((numbers, ts) => {
  const values = new Array(rowsPerInsert * 5);
  let row = 0;
  for (; row + rowsPerInsert <= ts.length; row += rowsPerInsert) {
    for (let k = 0; k < rowsPerInsert; k++) put(values, k * 5, numbers, row + k, ts);
    many.run(values);
  }
  const single = new Array(5);
  for (; row < ts.length; row++) { put(single, 0, numbers, row, ts); one.run(single); }
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
  try { load(new Float64Array(message.numbers), message.ts.split("\\n")); } catch (error) { finish(error); }
});
`;

/**
 * A rebuild's timeline, built by a worker thread in a file of its own (its indexes kept as rows
 * arrive: the worker's core is otherwise idle) while the main thread applies the projectors;
 * then the other tables join it there (`buildAside`). At a million events this takes the rebuild
 * from 14.1-15.4 s to ~10 s (ADR 0010). Synchronous like the rebuild: `finish` blocks on the worker.
 */
export class TimelineBuilder implements TimelineSink {
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly done = new Int32Array(new SharedArrayBuffer(4));
  private numbers = new Float64Array(ROWS_PER_MESSAGE * 4);
  private ts: string[] = [];

  /** `ddl`: the timeline table's and its indexes' CREATE statements, as the rebuilt database has them. */
  constructor(
    readonly path: string,
    private readonly ddl: readonly string[],
  ) {
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
    if (result?.ok !== true) throw new Error(`the rebuild's timeline worker failed: ${result?.error ?? "no answer"}`);
  }

  /** Stops the worker and removes its file (a failed rebuild). */
  abort(): void {
    void this.worker.terminate();
    removeDb(this.path);
  }

  private post(): void {
    if (this.ts.length === 0) return;
    const numbers = this.numbers.subarray(0, this.ts.length * 4).slice();
    this.port.postMessage({ numbers: numbers.buffer, ts: this.ts.join("\n") }, [numbers.buffer]);
    this.ts = [];
  }
}
