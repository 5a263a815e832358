/**
 * `npm run bench -- log`: the event log's appends/s under each fsync policy, its append latency
 * under a steady load, and its read-back rate, each beside the raw limit measured the same way on
 * the same disk in the same run (bench/raw.ts). The log syncs with fdatasync; so do the raw figures.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { Schema } from "effect";
import { defineEvent, makeCatalogue, openLog, type AppendInput, type EventLog, type FsyncPolicy } from "@atelier/events";
import {
  diskOf,
  fmtMs,
  fmtPct,
  fmtRate,
  makeLines,
  rawFdatasyncPerLine,
  rawReadParse,
  rawWriteBatchFdatasync,
  rawWritePerLine,
  removeDir,
  report,
  scratchDir,
  summarize,
  type Rate,
  type Row,
} from "./raw.ts";

/** Events appended in the throughput runs (and read back). */
const EVENTS = 200_000;
/** Appends in flight in the group-commit and `none` runs, one event each. */
const IN_FLIGHT = 1000;
/** Seconds for the `always` and fsync-per-line runs (about 5k/s each on this machine). */
const SYNC_SECONDS = 3;
const STEADY_RATE = 1000;
const STEADY_SECONDS = 5;

const LockAcquired = defineEvent("lock.acquired", {
  payload: Schema.Struct({
    file: Schema.String,
    mode: Schema.Literals(["read", "write"]),
    token: Schema.String,
  }),
  doc: "An agent took a lock on a file.",
});
const catalogue = makeCatalogue(LockAcquired);

/** 1,024 realistic inputs to cycle through (lines of about 300 bytes once enveloped). */
const inputs: AppendInput[] = Array.from({ length: 1024 }, (_, i) => {
  const file = `src/routes/ws-${String(i % 997).padStart(3, "0")}.ts`;
  return {
    type: "lock.acquired",
    entity: `lock:${file}`,
    payload: { file, mode: i % 3 === 0 ? "read" : "write", token: `tok_${((i * 2654435761) >>> 0).toString(36).padStart(7, "0")}` },
  };
});
const input = (i: number): AppendInput => inputs[i % inputs.length]!;

const open = (dir: string, fsync: FsyncPolicy): Promise<EventLog> => openLog(dir, { workspace: "ws_bench", catalogue, fsync });

/**
 * `inFlight` appenders, each appending one event at a time and awaiting it, until `total`
 * events are appended or `maxSeconds` pass.
 */
const flood = async (log: EventLog, total: number, inFlight: number, maxSeconds = Infinity): Promise<Rate> => {
  let issued = 0;
  let done = 0;
  const start = performance.now();
  const deadline = start + maxSeconds * 1000;
  const worker = async (): Promise<void> => {
    while (issued < total && performance.now() < deadline) {
      const i = issued++;
      await log.append([input(i)]);
      done++;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  const seconds = (performance.now() - start) / 1000;
  return { ops: done, seconds, perSecond: done / seconds };
};

/** Appends `rate` events/s, one per append, paced by setTimeout(1), for `seconds`; latency per append. */
const steady = async (log: EventLog, rate: number, seconds: number): Promise<{ latencies: number[]; achieved: number; maxLag: number }> => {
  const total = rate * seconds;
  const latencies: number[] = [];
  const pending: Array<Promise<void>> = [];
  let issued = 0;
  let maxLag = 0;
  let last = performance.now();
  const start = last;
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const now = performance.now();
      maxLag = Math.max(maxLag, now - last);
      last = now;
      const due = Math.min(total, Math.floor(((now - start) / 1000) * rate));
      while (issued < due) {
        const i = issued++;
        const t0 = performance.now();
        pending.push(log.append([input(i)]).then(() => void latencies.push(performance.now() - t0)));
      }
      if (issued < total) setTimeout(tick, 1);
      else resolve();
    };
    setTimeout(tick, 1);
  });
  await Promise.all(pending);
  return { latencies, achieved: total / ((performance.now() - start) / 1000), maxLag };
};

const segmentFiles = (dir: string): string[] => {
  const logDir = path.join(dir, "log");
  return fs
    .readdirSync(logDir)
    .filter((n) => n.endsWith(".jsonl"))
    .sort()
    .map((n) => path.join(logDir, n));
};

const logBytes = (dir: string): number => segmentFiles(dir).reduce((sum, f) => sum + fs.statSync(f).size, 0);

const ev = (r: Rate): string => `${fmtRate(r.perSecond)} ev/s`;
const ln = (r: Rate, what: string): string => `${fmtRate(r.perSecond)} lines/s (${what})`;

export async function run(): Promise<void> {
  const root = scratchDir("bench-log");
  const dirs: string[] = [];
  const fresh = (name: string): string => {
    const dir = path.join(root, name);
    fs.mkdirSync(dir);
    dirs.push(dir);
    return dir;
  };
  console.log(`\nbench log: scratch ${root} on ${diskOf(root)}`);
  try {
    // Warm the JIT (a server runs hot) and learn the size of a real line.
    const warm = await open(fresh("warm"), "none");
    await flood(warm, 20_000, IN_FLIGHT);
    await warm.close();
    const lineBytes = Math.round(logBytes(dirs[0]!) / 20_000);
    const lines = makeLines(1024, lineBytes);
    console.log(`  lines of ${lineBytes} bytes (lock.acquired {file, mode, token}); raw figures write lines of the same size`);

    // none
    const rawWrite = rawWritePerLine({ dir: root, lines, maxLines: EVENTS, maxSeconds: 5 });
    const noneLog = await open(fresh("none"), "none");
    const none = await flood(noneLog, EVENTS, IN_FLIGHT);
    await noneLog.close();

    // batch (group commit)
    const rawBatch = rawWriteBatchFdatasync({ dir: root, lines, maxLines: EVENTS, batch: 100, maxSeconds: 8 });
    const batchDir = fresh("batch");
    const batchLog = await open(batchDir, "batch");
    const batch = await flood(batchLog, EVENTS, IN_FLIGHT);

    // read back
    let start = performance.now();
    let n = 0;
    for (const _ of batchLog.read()) n++;
    const read: Rate = { ops: n, seconds: (performance.now() - start) / 1000, perSecond: n / ((performance.now() - start) / 1000) };
    start = performance.now();
    n = 0;
    for (const _ of batchLog.readRaw()) n++;
    const readRaw: Rate = { ops: n, seconds: (performance.now() - start) / 1000, perSecond: n / ((performance.now() - start) / 1000) };
    await batchLog.close();
    const rawRead = rawReadParse(segmentFiles(batchDir));
    start = performance.now();
    const reopened = await open(batchDir, "batch");
    const reopenRate = reopened.head() / ((performance.now() - start) / 1000);
    await reopened.close();

    // always
    const rawFsync = rawFdatasyncPerLine({ dir: root, lines, maxLines: 1_000_000, maxSeconds: SYNC_SECONDS });
    const alwaysLog = await open(fresh("always"), "always");
    const always = await flood(alwaysLog, 1_000_000, 1, SYNC_SECONDS);
    const always16 = await flood(alwaysLog, 1_000_000, 16, SYNC_SECONDS);
    await alwaysLog.close();

    // latency under a steady 1,000 events/s with batch
    const steadyLog = await open(fresh("steady"), "batch");
    const lat = await steady(steadyLog, STEADY_RATE, STEADY_SECONDS);
    await steadyLog.close();
    const s = summarize(lat.latencies);

    const rows: Row[] = [
      {
        metric: `fsync=batch, ${IN_FLIGHT} appends in flight × 1 event`,
        measured: ev(batch),
        raw: ln(rawBatch, "writeSync ×100 + fdatasync"),
        ratio: batch.perSecond / rawBatch.perSecond,
        target: "≥ 100k/s and ≥ 50%",
        pass: batch.perSecond >= 100_000 && batch.perSecond / rawBatch.perSecond >= 0.5,
      },
      {
        metric: "fsync=always, 1 appender × 1 event",
        measured: ev(always),
        raw: ln(rawFsync, "writeSync + fdatasync per line"),
        ratio: always.perSecond / rawFsync.perSecond,
        target: "≥ 70%",
        pass: always.perSecond / rawFsync.perSecond >= 0.7,
      },
      {
        metric: "fsync=always, 16 appenders × 1 event",
        measured: ev(always16),
        raw: ln(rawFsync, "writeSync + fdatasync per line"),
        ratio: always16.perSecond / rawFsync.perSecond,
      },
      {
        metric: `fsync=none, ${IN_FLIGHT} appends in flight × 1 event`,
        measured: ev(none),
        raw: ln(rawWrite, "writeSync per line"),
        ratio: none.perSecond / rawWrite.perSecond,
      },
      {
        metric: `p99 append latency, batch, steady ${fmtRate(STEADY_RATE)}/s for ${STEADY_SECONDS} s`,
        measured: fmtMs(s.p99),
        target: "≤ 2 ms",
        pass: s.p99 <= 2,
      },
      {
        metric: `read() of ${fmtRate(read.ops)} events`,
        measured: ev(read),
        raw: ln(rawRead, "readFileSync + split + JSON.parse"),
        ratio: read.perSecond / rawRead.perSecond,
        target: "≥ 300k/s",
        pass: read.perSecond >= 300_000,
      },
      {
        metric: `readRaw() of ${fmtRate(readRaw.ops)} events`,
        measured: ev(readRaw),
      },
      {
        metric: `openLog (verify chain) of ${fmtRate(read.ops)} events`,
        measured: ev({ ops: 0, seconds: 0, perSecond: reopenRate }),
      },
    ];
    report("log", rows, [
      `latency (n=${s.count}, achieved ${lat.achieved.toFixed(0)}/s, max timer gap ${fmtMs(lat.maxLag)}): p50 ${fmtMs(s.p50)}, p90 ${fmtMs(s.p90)}, p99 ${fmtMs(s.p99)}, p99.9 ${fmtMs(s.p999)}, max ${fmtMs(s.max)}`,
      `none/batch ran ${fmtRate(EVENTS)} events; always ran ${SYNC_SECONDS} s each (${always.ops} and ${always16.ops} events); raw fsync per line ${rawFsync.ops} lines; batch is ${fmtPct(batch.perSecond / none.perSecond)} of none`,
    ]);
  } finally {
    removeDir(root);
  }
}
