/**
 * `npm run bench -- log`: the event log's appends/s under each fsync policy, its append latency
 * under a steady load, and its read-back rate, each beside the raw limit measured the same way on
 * the same disk in the same run (bench/raw.ts). The log syncs with fdatasync; so do the raw figures.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { performance, PerformanceObserver } from "node:perf_hooks";
import { Schema } from "effect";
import { defineEvent, makeCatalogue, openLog, type AppendInput, type EventLog, type FsyncPolicy } from "@atelier/events";
import {
  diskOf,
  fmtMs,
  fmtRate,
  makeLines,
  median,
  rawFdatasyncLatencies,
  rawFdatasyncPerLine,
  rawFdatasyncPerLineAsync,
  rawPacedFdatasyncLatencies,
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

/** Interleaved rounds (raw, then log) per figure: the disk's speed drifts, so ratios use neighbours. */
const ROUNDS = 5;
/** Events per group-commit round: 5 rounds build the ~200k-event log that is read back. */
const BATCH_EVENTS = 40_000;
/** Appends in flight in the group-commit and `none` runs, one event each. */
const IN_FLIGHT = 1000;
/** Seconds per round of the `always` and fsync-per-line runs (about 5k/s each on this machine). */
const SYNC_SECONDS = 0.6;
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
const flood = async (log: EventLog, total: number, inFlight: number, maxSeconds = Infinity): Promise<Rate & { cpuUs: number }> => {
  let issued = 0;
  let done = 0;
  const cpu0 = process.cpuUsage();
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
  const cpu = process.cpuUsage(cpu0);
  return { ops: done, seconds, perSecond: done / seconds, cpuUs: (cpu.user + cpu.system) / done };
};

interface SteadyResult {
  readonly latencies: number[];
  readonly achieved: number;
  /** Longest gap between two pacing ticks (event-loop stalls show here). */
  readonly maxLag: number;
  /** GC pauses inside the window: count, total and longest ms. */
  readonly gc: { count: number; totalMs: number; maxMs: number };
  /** Appends slower than 1 ms, and how many of them overlapped a GC pause. */
  readonly slow: number;
  readonly slowInGc: number;
}

/** Appends `rate` events/s, one per append, paced by setTimeout(1), for `seconds`; latency per append. */
const steady = async (log: EventLog, rate: number, seconds: number): Promise<SteadyResult> => {
  const total = rate * seconds;
  const latencies: number[] = [];
  const spans: Array<[number, number]> = [];
  const pauses: Array<[number, number]> = [];
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) pauses.push([e.startTime, e.startTime + e.duration]);
  });
  observer.observe({ entryTypes: ["gc"] });
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
        pending.push(
          log.append([input(i)]).then(() => {
            const t1 = performance.now();
            latencies.push(t1 - t0);
            if (t1 - t0 > 1) spans.push([t0, t1]);
          }),
        );
      }
      if (issued < total) setTimeout(tick, 1);
      else resolve();
    };
    setTimeout(tick, 1);
  });
  await Promise.all(pending);
  const achieved = total / ((performance.now() - start) / 1000);
  // GC entries are delivered asynchronously: give the observer a turn before reading them.
  await new Promise((r) => setTimeout(r, 10));
  observer.disconnect();
  const inWindow = pauses.filter(([s]) => s >= start);
  return {
    latencies,
    achieved,
    maxLag,
    gc: {
      count: inWindow.length,
      totalMs: inWindow.reduce((sum, [s, e]) => sum + (e - s), 0),
      maxMs: Math.max(0, ...inWindow.map(([s, e]) => e - s)),
    },
    slow: spans.length,
    slowInGc: spans.filter(([t0, t1]) => inWindow.some(([s, e]) => s < t1 && e > t0)).length,
  };
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

const timed = (fn: () => number): Rate => {
  const start = performance.now();
  const ops = fn();
  const seconds = (performance.now() - start) / 1000;
  return { ops, seconds, perSecond: ops / seconds };
};

/** Median rate, median of the per-round ratios, and the per-round figures for the notes. */
interface Paired {
  readonly log: number;
  readonly raw: number;
  readonly ratio: number;
  readonly rounds: string;
}
const pair = (log: readonly Rate[], raw: readonly Rate[]): Paired => ({
  log: median(log.map((r) => r.perSecond)),
  raw: median(raw.map((r) => r.perSecond)),
  ratio: median(log.map((r, i) => r.perSecond / raw[i]!.perSecond)),
  rounds: log.map((r, i) => `${fmtRate(r.perSecond)}/${fmtRate(raw[i]!.perSecond)}`).join(", "),
});

export async function run(): Promise<void> {
  const root = scratchDir("bench-log");
  const fresh = (name: string): string => {
    const dir = path.join(root, name);
    fs.mkdirSync(dir);
    return dir;
  };
  const load0 = os.loadavg()[0]!;
  console.log(`\nbench log: scratch ${root} on ${diskOf(root)}; ${os.cpus().length} cores, load ${load0.toFixed(2)}`);
  try {
    // Warm the JIT (a server runs hot) and learn the size of a real line.
    const warmDir = fresh("warm");
    const warm = await open(warmDir, "none");
    await flood(warm, 20_000, IN_FLIGHT);
    await warm.close();
    const lineBytes = Math.round(logBytes(warmDir) / 20_000);
    const lines = makeLines(1024, lineBytes);

    // Latency first, on a young heap: the throughput runs below leave garbage whose collection
    // would stall the event loop inside the latency window. Beside raw fdatasync latencies.
    const rawLat = summarize(rawFdatasyncLatencies({ dir: root, lines, seconds: 1 }));
    const rawPaced = summarize(await rawPacedFdatasyncLatencies({ dir: root, lines, rate: STEADY_RATE, seconds: STEADY_SECONDS }));
    const steadyLog = await open(fresh("steady"), "batch");
    const lat = await steady(steadyLog, STEADY_RATE, STEADY_SECONDS);
    await steadyLog.close();
    const s = summarize(lat.latencies);

    // batch (group commit) against writeSync of 100 lines + one fdatasync, interleaved
    const batchDir = fresh("batch");
    const batchLog = await open(batchDir, "batch");
    const rawBatch: Rate[] = [];
    const batch: Array<Rate & { cpuUs: number }> = [];
    for (let r = 0; r < ROUNDS; r++) {
      rawBatch.push(rawWriteBatchFdatasync({ dir: root, lines, maxLines: BATCH_EVENTS, batch: 100 }));
      batch.push(await flood(batchLog, BATCH_EVENTS, IN_FLIGHT));
    }
    const b = pair(batch, rawBatch);

    // read back the ~200k events just written
    const reads: Rate[] = [];
    const rawReads: Rate[] = [];
    for (let r = 0; r < 3; r++) {
      reads.push(timed(() => {
        let n = 0;
        for (const _ of batchLog.read()) n++;
        return n;
      }));
      rawReads.push(rawReadParse(segmentFiles(batchDir)));
    }
    const rd = pair(reads, rawReads);
    const readRaw = timed(() => {
      let n = 0;
      for (const _ of batchLog.readRaw()) n++;
      return n;
    });
    await batchLog.close();
    const start = performance.now();
    const reopened = await open(batchDir, "batch");
    const verify: Rate = { ops: reopened.head(), seconds: (performance.now() - start) / 1000, perSecond: reopened.head() / ((performance.now() - start) / 1000) };
    await reopened.close();

    // none against writeSync per line
    const noneLog = await open(fresh("none"), "none");
    const rawWrite: Rate[] = [];
    const none: Array<Rate & { cpuUs: number }> = [];
    for (let r = 0; r < 3; r++) {
      rawWrite.push(rawWritePerLine({ dir: root, lines, maxLines: BATCH_EVENTS }));
      none.push(await flood(noneLog, BATCH_EVENTS, IN_FLIGHT));
    }
    await noneLog.close();
    const nn = pair(none, rawWrite);

    // always against writeSync + fdatasync per line (sync, and awaited from the thread pool)
    const alwaysLog = await open(fresh("always"), "always");
    const rawFsync: Rate[] = [];
    const rawFsyncAsync: Rate[] = [];
    const always: Rate[] = [];
    const always16: Rate[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      rawFsync.push(rawFdatasyncPerLine({ dir: root, lines, maxLines: 1e9, maxSeconds: SYNC_SECONDS }));
      always.push(await flood(alwaysLog, 1e9, 1, SYNC_SECONDS));
      rawFsyncAsync.push(await rawFdatasyncPerLineAsync({ dir: root, lines, maxLines: 1e9, maxSeconds: SYNC_SECONDS }));
      if (r < 2) always16.push(await flood(alwaysLog, 1e9, 16, SYNC_SECONDS));
    }
    await alwaysLog.close();
    const al = pair(always, rawFsync);
    const alAsync = pair(always, rawFsyncAsync);
    const al16 = pair(always16, rawFsync.slice(0, 2));

    const rows: Row[] = [
      {
        metric: `fsync=batch, ${IN_FLIGHT} appends in flight × 1 event`,
        measured: `${fmtRate(b.log)} ev/s`,
        raw: `${fmtRate(b.raw)} lines/s (writeSync ×100 + fdatasync)`,
        ratio: b.ratio,
        target: "≥ 100k/s and ≥ 50%",
        pass: b.log >= 100_000 && b.ratio >= 0.5,
      },
      {
        metric: "fsync=always, 1 appender × 1 event",
        measured: `${fmtRate(al.log)} ev/s`,
        raw: `${fmtRate(al.raw)} lines/s (writeSync + fdatasyncSync per line)`,
        ratio: al.ratio,
        target: "≥ 70%",
        pass: al.ratio >= 0.7,
      },
      {
        metric: "fsync=always, 1 appender × 1 event",
        measured: `${fmtRate(al.log)} ev/s`,
        raw: `${fmtRate(alAsync.raw)} lines/s (writeSync + awaited fs.fdatasync)`,
        ratio: alAsync.ratio,
      },
      {
        metric: "fsync=always, 16 appenders × 1 event",
        measured: `${fmtRate(al16.log)} ev/s`,
        raw: `${fmtRate(al16.raw)} lines/s (writeSync + fdatasyncSync per line)`,
        ratio: al16.ratio,
      },
      {
        metric: `fsync=none, ${IN_FLIGHT} appends in flight × 1 event`,
        measured: `${fmtRate(nn.log)} ev/s`,
        raw: `${fmtRate(nn.raw)} lines/s (writeSync per line)`,
        ratio: nn.ratio,
      },
      {
        metric: `p99 append latency, batch, steady ${fmtRate(STEADY_RATE)}/s for ${STEADY_SECONDS} s`,
        measured: fmtMs(s.p99),
        raw: `${fmtMs(rawPaced.p99)} (p99, writeSync + fs.fdatasync per event, same pacing)`,
        target: "≤ 2 ms",
        pass: s.p99 <= 2,
      },
      {
        metric: `read() of ${fmtRate(reads[0]!.ops)} events`,
        measured: `${fmtRate(rd.log)} ev/s`,
        raw: `${fmtRate(rd.raw)} lines/s (readFileSync + split + JSON.parse)`,
        ratio: rd.ratio,
        target: "≥ 300k/s",
        pass: rd.log >= 300_000,
      },
      { metric: `readRaw() of ${fmtRate(readRaw.ops)} events`, measured: `${fmtRate(readRaw.perSecond)} ev/s` },
      { metric: `openLog (verifies the chain) of ${fmtRate(verify.ops)} events`, measured: `${fmtRate(verify.perSecond)} ev/s` },
    ];
    report("log", rows, [
      `lines of ${lineBytes} bytes (lock.acquired {file, mode, token}); every raw figure writes lines of that size with fdatasync, as the log does; warmed up with 20k appends`,
      `figures are medians of interleaved rounds (log/raw per round): batch ${b.rounds}; always ${al.rounds}; none ${nn.rounds}; read ${rd.rounds}`,
      `CPU time of the process per event (all threads; robust to a busy disk, not to busy cores): batch ${median(batch.map((r) => r.cpuUs)).toFixed(1)} µs, none ${median(none.map((r) => r.cpuUs)).toFixed(1)} µs`,
      `latency n=${s.count} at ${lat.achieved.toFixed(0)}/s (max timer gap ${fmtMs(lat.maxLag)}; GC ${lat.gc.count} pauses, ${fmtMs(lat.gc.totalMs)} total, longest ${fmtMs(lat.gc.maxMs)}; ${lat.slow} appends > 1 ms, ${lat.slowInGc} of them during a GC): p50 ${fmtMs(s.p50)}, p90 ${fmtMs(s.p90)}, p99 ${fmtMs(s.p99)}, p99.9 ${fmtMs(s.p999)}, max ${fmtMs(s.max)}; raw paced p50/p90/p99 ${fmtMs(rawPaced.p50)}/${fmtMs(rawPaced.p90)}/${fmtMs(rawPaced.p99)}; raw fdatasyncSync back to back p50/p99 ${fmtMs(rawLat.p50)}/${fmtMs(rawLat.p99)}`,
      `load average ${load0.toFixed(2)} → ${os.loadavg()[0]!.toFixed(2)} on ${os.cpus().length} cores${Math.max(load0, os.loadavg()[0]!) > 1 ? " — other work was running: disk and timer figures are unreliable, run again on a quiet machine" : ""}`,
    ]);
  } finally {
    removeDir(root);
  }
}
