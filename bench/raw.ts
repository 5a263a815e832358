/**
 * Raw limits of this machine, measured in the same run as a benchmark so that ratios compare like
 * with like, plus the small helpers every bench shares: scratch folders on the project's disk,
 * percentiles, and the result table.
 *
 * The raw file figures use fdatasync, as the log's node storage does (data + size, not mtime).
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import * as v8 from "node:v8";
import { runInNewContext } from "node:vm";

/** The repository root (bench/..). */
export const repoRoot: string = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** Scratch folders live on the project's disk, in the gitignored `.tmp/`. */
export const scratchRoot: string = path.join(repoRoot, ".tmp");

/** A fresh empty folder under `.tmp/` for one bench; remove it with `removeDir`. */
export const scratchDir = (name: string): string => {
  fs.mkdirSync(scratchRoot, { recursive: true });
  return fs.mkdtempSync(path.join(scratchRoot, `${name}-`));
};

export const removeDir = (dir: string): void => fs.rmSync(dir, { recursive: true, force: true });

/** The `df -T` line of the file system holding `dir` (device, type, size), for the report header. */
/**
 * fsyncs every file under `dir` (and the folders), so that writeback of a setup copy does not
 * land inside a latency measurement that follows it.
 */
export const flushDir = (dir: string): void => {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    const file = path.join(entry.parentPath, entry.name);
    const fd = fs.openSync(file, "r");
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  }
};

export const diskOf = (dir: string): string => {
  try {
    const out = execFileSync("df", ["-T", "-h", dir], { encoding: "utf8" }).trim().split("\n");
    const cols = (out.at(-1) ?? "").split(/\s+/);
    return `${cols[0]} (${cols[1]}, ${cols[2]}, mounted on ${cols[6]})`;
  } catch {
    return "unknown disk";
  }
};

// ---------------------------------------------------------------------------------------------
// Measurement results

export interface Rate {
  /** Operations (lines, events, rows) done. */
  readonly ops: number;
  readonly seconds: number;
  /** ops / seconds. */
  readonly perSecond: number;
}

const rate = (ops: number, startMs: number): Rate => {
  const seconds = (performance.now() - startMs) / 1000;
  return { ops, seconds, perSecond: ops / seconds };
};

/** Makes `count` distinct JSONL lines (newline included) of about `bytes` bytes each. */
export const makeLines = (count: number, bytes: number): Buffer[] => {
  const lines: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const head = `{"seq":${i + 1},"pad":"`;
    const tail = `"}\n`;
    const fill = Math.max(0, bytes - head.length - tail.length);
    lines.push(Buffer.from(head + "x".repeat(fill) + tail));
  }
  return lines;
};

export interface FileRawOptions {
  /** Folder to write in (a fresh file is created inside and removed afterwards). */
  readonly dir: string;
  /** Lines to cycle through. */
  readonly lines: readonly Buffer[];
  /** Stop after this many lines... */
  readonly maxLines: number;
  /** ...or once this many seconds have passed, whichever comes first (default: no time limit). */
  readonly maxSeconds?: number;
}

const withFile = <T>(dir: string, name: string, fn: (fd: number) => T): T => {
  const file = path.join(dir, name);
  const fd = fs.openSync(file, "a");
  try {
    return fn(fd);
  } finally {
    fs.closeSync(fd);
    fs.rmSync(file, { force: true });
  }
};

const writeAll = (fd: number, buffer: Buffer): void => {
  let written = 0;
  while (written < buffer.length) written += fs.writeSync(fd, buffer, written, buffer.length - written, null);
};

/** `writeSync` of one line at a time, never synced: the ceiling for `fsync: "none"`. */
export const rawWritePerLine = (options: FileRawOptions): Rate =>
  withFile(options.dir, "raw-write.jsonl", (fd) => {
    const { lines, maxLines } = options;
    const deadline = options.maxSeconds === undefined ? Infinity : performance.now() + options.maxSeconds * 1000;
    const start = performance.now();
    let n = 0;
    while (n < maxLines) {
      writeAll(fd, lines[n % lines.length]!);
      n++;
      if ((n & 1023) === 0 && performance.now() > deadline) break;
    }
    return rate(n, start);
  });

/**
 * `writeSync` of `batch` lines joined into one buffer, then one fdatasync per batch: the ceiling
 * for group commit (`fsync: "batch"`).
 */
export const rawWriteBatchFdatasync = (options: FileRawOptions & { readonly batch: number }): Rate =>
  withFile(options.dir, "raw-batch.jsonl", (fd) => {
    const { lines, maxLines, batch } = options;
    const deadline = options.maxSeconds === undefined ? Infinity : performance.now() + options.maxSeconds * 1000;
    const start = performance.now();
    let n = 0;
    while (n < maxLines && performance.now() < deadline) {
      const parts: Buffer[] = [];
      for (let i = 0; i < batch; i++) parts.push(lines[(n + i) % lines.length]!);
      writeAll(fd, Buffer.concat(parts));
      fs.fdatasyncSync(fd);
      n += batch;
    }
    return rate(n, start);
  });

/** `writeSync` of one line, then fdatasync, per line: the ceiling for `fsync: "always"`. */
export const rawFdatasyncPerLine = (options: FileRawOptions): Rate =>
  withFile(options.dir, "raw-fsync.jsonl", (fd) => {
    const { lines, maxLines } = options;
    const deadline = options.maxSeconds === undefined ? Infinity : performance.now() + options.maxSeconds * 1000;
    const start = performance.now();
    let n = 0;
    while (n < maxLines && performance.now() < deadline) {
      writeAll(fd, lines[n % lines.length]!);
      fs.fdatasyncSync(fd);
      n++;
    }
    return rate(n, start);
  });

/**
 * As `rawFdatasyncPerLine`, but awaiting the callback `fs.fdatasync` (a libuv thread-pool job),
 * which is how an event loop that must not block syncs, and how the log's node storage does it.
 */
export const rawFdatasyncPerLineAsync = async (options: FileRawOptions): Promise<Rate> => {
  const file = path.join(options.dir, "raw-fsync-async.jsonl");
  const fd = fs.openSync(file, "a");
  try {
    const { lines, maxLines } = options;
    const deadline = options.maxSeconds === undefined ? Infinity : performance.now() + options.maxSeconds * 1000;
    const start = performance.now();
    let n = 0;
    while (n < maxLines && performance.now() < deadline) {
      writeAll(fd, lines[n % lines.length]!);
      await new Promise<void>((resolve, reject) => fs.fdatasync(fd, (error) => (error ? reject(error) : resolve())));
      n++;
    }
    return rate(n, start);
  } finally {
    fs.closeSync(fd);
    fs.rmSync(file, { force: true });
  }
};

/** Latency in ms of each `writeSync` + fdatasync of one line, for `seconds`, back to back. */
export const rawFdatasyncLatencies = (options: { dir: string; lines: readonly Buffer[]; seconds: number }): number[] =>
  withFile(options.dir, "raw-latency.jsonl", (fd) => {
    const samples: number[] = [];
    const deadline = performance.now() + options.seconds * 1000;
    for (let n = 0; performance.now() < deadline; n++) {
      const t0 = performance.now();
      writeAll(fd, options.lines[n % options.lines.length]!);
      fs.fdatasyncSync(fd);
      samples.push(performance.now() - t0);
    }
    return samples;
  });

/**
 * Latency in ms of `writeSync` + awaited `fs.fdatasync` per event, `rate` events/s paced by
 * setTimeout(1) for `seconds`: the same pacing as a steady-load latency bench, so that event-loop
 * stalls and fsync outliers of the machine show in the raw figure too.
 */
export const rawPacedFdatasyncLatencies = async (options: {
  dir: string;
  lines: readonly Buffer[];
  rate: number;
  seconds: number;
}): Promise<number[]> => {
  const file = path.join(options.dir, "raw-paced.jsonl");
  const fd = fs.openSync(file, "a");
  const samples: number[] = [];
  const pending: Array<Promise<void>> = [];
  const total = Math.round(options.rate * options.seconds);
  let issued = 0;
  const start = performance.now();
  try {
    await new Promise<void>((resolve) => {
      const tick = (): void => {
        const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * options.rate));
        while (issued < due) {
          const t0 = performance.now();
          writeAll(fd, options.lines[issued++ % options.lines.length]!);
          pending.push(
            new Promise<void>((done, fail) =>
              fs.fdatasync(fd, (error) => {
                if (error) return fail(error);
                samples.push(performance.now() - t0);
                done();
              }),
            ),
          );
        }
        if (issued < total) setTimeout(tick, 1);
        else resolve();
      };
      setTimeout(tick, 1);
    });
    await Promise.all(pending);
    return samples;
  } finally {
    fs.closeSync(fd);
    fs.rmSync(file, { force: true });
  }
};

/** Reads a JSONL file whole, splits it and JSON.parses every line: the ceiling for reading a log back. */
export const rawReadParse = (files: readonly string[]): Rate => {
  const start = performance.now();
  let n = 0;
  for (const file of files) {
    const text = fs.readFileSync(file, "utf8");
    let from = 0;
    for (let end = text.indexOf("\n"); end !== -1; end = text.indexOf("\n", from)) {
      JSON.parse(text.slice(from, end));
      from = end + 1;
      n++;
    }
  }
  return rate(n, start);
};

// ---------------------------------------------------------------------------------------------
// SQLite (better-sqlite3 12, WAL, synchronous=NORMAL)

export interface SqliteRawOptions {
  readonly dir: string;
  readonly rows: number;
  /** Rows per transaction (default 1,000). */
  readonly batch?: number;
  /** Bytes of the payload column (default 200). */
  readonly payloadBytes?: number;
}

interface SqliteStatement {
  run(...params: unknown[]): unknown;
}
interface SqliteDb {
  pragma(source: string): unknown;
  exec(source: string): unknown;
  prepare(source: string): SqliteStatement;
  transaction<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void;
  close(): void;
}

/** Loads better-sqlite3 lazily so that benches that do not need it run without it. */
const openSqlite = (file: string): SqliteDb => {
  const require = createRequire(import.meta.url);
  const Database = require("better-sqlite3") as new (file: string) => SqliteDb;
  return new Database(file);
};

/** Batched inserts into a WAL-mode SQLite table with synchronous=NORMAL, in `batch`-row transactions. */
export const rawSqliteBatchedInsert = (options: SqliteRawOptions): Rate => {
  const file = path.join(options.dir, "raw.sqlite");
  const db = openSqlite(file);
  try {
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    db.exec("CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY, type TEXT NOT NULL, payload TEXT NOT NULL)");
    const insert = db.prepare("INSERT INTO events (seq, type, payload) VALUES (?, ?, ?)");
    const payload = "x".repeat(options.payloadBytes ?? 200);
    const batch = options.batch ?? 1000;
    const insertMany = db.transaction((from: number, count: number) => {
      for (let i = 0; i < count; i++) insert.run(from + i, "lock.acquired", payload);
    });
    const start = performance.now();
    let n = 0;
    while (n < options.rows) {
      const count = Math.min(batch, options.rows - n);
      insertMany(n + 1, count);
      n += count;
    }
    return rate(n, start);
  } finally {
    db.close();
    for (const suffix of ["", "-wal", "-shm"]) fs.rmSync(file + suffix, { force: true });
  }
};

// ---------------------------------------------------------------------------------------------
// Latency

/** The p-th percentile (0–100) of `samples` by nearest rank; NaN for none. */
export const percentile = (samples: readonly number[], p: number): number => {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  return percentileSorted(sorted, p);
};

/** As `percentile`, for samples already sorted ascending. */
export const percentileSorted = (sorted: readonly number[], p: number): number => {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
};

/** The median of `values` (mean of the middle two for an even count); NaN for none. */
export const median = (values: readonly number[]): number => {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

export interface LatencySummary {
  readonly count: number;
  readonly mean: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
}

export const summarize = (samples: readonly number[]): LatencySummary => {
  const sorted = [...samples].sort((a, b) => a - b);
  const sum = sorted.reduce((a, b) => a + b, 0);
  return {
    count: sorted.length,
    mean: sorted.length ? sum / sorted.length : Number.NaN,
    p50: percentileSorted(sorted, 50),
    p90: percentileSorted(sorted, 90),
    p99: percentileSorted(sorted, 99),
    p999: percentileSorted(sorted, 99.9),
    max: sorted.at(-1) ?? Number.NaN,
  };
};

// ---------------------------------------------------------------------------------------------
// Reporting

export interface Row {
  /** What was measured and how. */
  readonly metric: string;
  /** The figure, formatted (e.g. "123.4k ev/s"). */
  readonly measured: string;
  /** The raw limit it is compared with, formatted, with what it is; empty when none. */
  readonly raw?: string;
  /** measured / raw, when both are rates. */
  readonly ratio?: number;
  /** The target in words, e.g. "≥ 100k/s and ≥ 50% of raw"; empty for an informational row. */
  readonly target?: string;
  /** Whether the target was met; undefined for an informational row. */
  readonly pass?: boolean;
}

export interface BenchReport {
  readonly bench: string;
  readonly rows: readonly Row[];
}

/** Every table printed in this process, for the summary in bench/main.ts. */
export const reports: BenchReport[] = [];

/** 123456 → "123.5k". */
export const fmtRate = (perSecond: number): string =>
  perSecond >= 1e6 ? `${(perSecond / 1e6).toFixed(2)}M` : perSecond >= 1e3 ? `${(perSecond / 1e3).toFixed(1)}k` : perSecond.toFixed(0);

/** A full collection now (`gc` exposed when first needed, so the benches run in a plain node). */
export const collectGarbage = (): void => {
  v8.setFlagsFromString("--expose-gc");
  (runInNewContext("gc") as () => void)();
};

/**
 * Collects the garbage left by whatever ran before, so that a measurement pays for its own
 * allocations, not for its neighbour's.
 */
export const settle = async (): Promise<void> => {
  collectGarbage();
  await new Promise((resolve) => setTimeout(resolve, 20));
};

export const fmtMs = (ms: number): string => (ms < 1 ? `${(ms * 1000).toFixed(0)} µs` : `${ms.toFixed(2)} ms`);

export const fmtPct = (ratio: number): string => `${(ratio * 100).toFixed(0)}%`;

/** Prints a bench's table and records it for the summary. */
export const report = (bench: string, rows: readonly Row[], notes: readonly string[] = []): void => {
  reports.push({ bench, rows });
  const header = ["metric", "measured", "raw limit (same run)", "ratio", "target", "result"];
  const cells = rows.map((r) => [
    r.metric,
    r.measured,
    r.raw ?? "",
    r.ratio === undefined ? "" : fmtPct(r.ratio),
    r.target ?? "",
    r.pass === undefined ? "info" : r.pass ? "PASS" : "FAIL",
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: readonly string[]) => `| ${c.map((v, i) => v.padEnd(widths[i]!)).join(" | ")} |`;
  const rule = `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`;
  console.log(`\n## bench ${bench}\n`);
  console.log(line(header));
  console.log(rule);
  for (const c of cells) console.log(line(c));
  for (const note of notes) console.log(`  ${note}`);
};

/**
 * The least a projection rebuild writes per event, as plain SQLite: one timeline-shaped row
 * (seq, ts text, type/entity/agent integer ids) per event into a fresh file with the rebuild's
 * pragmas and page size (no journal, no syncs, exclusive lock), `batch`-row transactions, and the
 * timeline's four secondary indexes created after the load. The clock covers the load and the
 * index build. Ids are drawn at random (seeded) with a workspace's cardinalities: 44 types, 300
 * entities, 8 agents and no agent for one row in 9. Cyclic ids (seq % n) sort ~1.6x faster when
 * the indexes are built, a speed no real log gives.
 */
export const rawSqliteTimelineLoad = (options: { readonly dir: string; readonly rows: number; readonly batch: number; readonly pageSize: number }): Rate => {
  const file = path.join(options.dir, "raw-timeline.sqlite");
  const db = openSqlite(file);
  try {
    for (const pragma of [`page_size = ${options.pageSize}`, "journal_mode = OFF", "synchronous = OFF", "locking_mode = EXCLUSIVE", "cache_size = -262144", "temp_store = MEMORY"]) {
      db.pragma(pragma);
    }
    db.exec("CREATE TABLE timeline (seq INTEGER PRIMARY KEY, ts TEXT NOT NULL, type INTEGER NOT NULL, entity INTEGER NOT NULL, agent INTEGER)");
    const insert = db.prepare("INSERT INTO timeline (seq, ts, type, entity, agent) VALUES (?, ?, ?, ?, ?)");
    let state = 2026;
    const draw = (n: number): number => {
      state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0; // LCG: reproducible, and cheap beside an insert
      return (state >>> 8) % n;
    };
    const insertMany = db.transaction((from: number, count: number) => {
      for (let seq = from; seq < from + count; seq++) {
        insert.run(seq, new Date(1_800_000_000_000 + seq).toISOString(), draw(44), draw(300), draw(9) || null);
      }
    });
    const start = performance.now();
    for (let n = 0; n < options.rows; n += options.batch) insertMany(n + 1, Math.min(options.batch, options.rows - n));
    for (const columns of ["type", "entity", "agent", "agent, type"]) {
      db.exec(`CREATE INDEX "timeline_by_${columns.replace(", ", "_")}" ON timeline (${columns})`);
    }
    return rate(options.rows, start);
  } finally {
    db.close();
    fs.rmSync(file, { force: true });
  }
};
