/**
 * `npm run bench -- mirror`: the JetStream mirror's throughput beside raw pipelined JetStream
 * publishes of the very same lines, measured in the same run against the same nats-server (2.9.10,
 * single node, loopback), and the mirror's lag under a steady 1,000 events/s.
 *
 * Throughput is a catch-up: a log holding EVENTS events, a mirror started on it, timed until
 * JetStream has acknowledged them all. Raw is `js.publish` with the same number in flight, no
 * headers, no log. Lag is the time from an append's commit to JetStream's ack of that event.
 */
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { Schema } from "effect";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { defineEvent, ensureStream, makeCatalogue, openLog, startMirror, subjectFor, type AppendInput, type EventLog } from "@atelier/events";
import { startNatsServer } from "../test/helpers/nats-server.ts";
import { fmtMs, fmtRate, removeDir, report, scratchDir, summarize, type Rate } from "./raw.ts";

const EVENTS = 50_000;
const ROUNDS = 3;
/** The mirror's default window, and raw's publishes in flight. */
const WINDOW = 1024;
const STEADY_RATE = 1000;
const STEADY_SECONDS = 5;

const LockAcquired = defineEvent("lock.acquired", {
  payload: Schema.Struct({ file: Schema.String, mode: Schema.Literals(["read", "write"]), token: Schema.String }),
  doc: "An agent took a lock on a file.",
});
const catalogue = makeCatalogue(LockAcquired);

/** The same realistic ~300-byte events as the log bench. */
const input = (i: number): AppendInput => {
  const file = `src/routes/ws-${String(i % 997).padStart(3, "0")}.ts`;
  return { type: "lock.acquired", entity: `lock:${file}`, payload: { file, mode: i % 3 === 0 ? "read" : "write", token: `tok_${((i * 2654435761) >>> 0).toString(36).padStart(7, "0")}` } };
};

const fill = async (log: EventLog, count: number): Promise<void> => {
  for (let i = 0; i < count; i += 500) await log.append(Array.from({ length: 500 }, (_, j) => input(i + j)));
};

const rateOf = (ops: number, startMs: number): Rate => {
  const seconds = (performance.now() - startMs) / 1000;
  return { ops, seconds, perSecond: ops / seconds };
};

/** `js.publish` of `lines` to a fresh subject with `WINDOW` publishes in flight. */
const rawPublish = async (nc: NatsConnection, subject: string, lines: readonly string[]): Promise<Rate> => {
  const js = jetstream(nc);
  const start = performance.now();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < lines.length) await js.publish(subject, lines[next++]!);
  };
  await Promise.all(Array.from({ length: WINDOW }, worker));
  return rateOf(lines.length, start);
};

/** A mirror catching up on a log of EVENTS events. */
const mirrorCatchUp = async (root: string, url: string, ws: string): Promise<{ rate: Rate; lines: string[] }> => {
  const dir = path.join(root, ws);
  const log = await openLog(dir, { workspace: ws, catalogue, fsync: "none" });
  await fill(log, EVENTS);
  const lines = [...log.readRaw()].map((r) => r.line);
  const start = performance.now();
  const mirror = startMirror(log, { url, workspaceDir: dir, window: WINDOW });
  await mirror.mirrored(EVENTS);
  const rate = rateOf(EVENTS, start);
  await mirror.stop();
  await log.close();
  return { rate, lines };
};

/** Appends STEADY_RATE events/s, one per append, and times each from its commit to its ack. */
const steadyLag = async (root: string, url: string): Promise<{ lags: number[]; maxLagEvents: number }> => {
  const ws = "ws_steady";
  const dir = path.join(root, ws);
  const log = await openLog(dir, { workspace: ws, catalogue, fsync: "batch" });
  const mirror = startMirror(log, { url, workspaceDir: dir, window: WINDOW });
  while (mirror.status().state !== "mirroring") await new Promise((r) => setTimeout(r, 5));
  const lags: number[] = [];
  const pending: Array<Promise<void>> = [];
  let maxLagEvents = 0;
  const total = STEADY_RATE * STEADY_SECONDS;
  let issued = 0;
  const start = performance.now();
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      maxLagEvents = Math.max(maxLagEvents, mirror.status().lag);
      const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * STEADY_RATE));
      while (issued < due) {
        pending.push(
          log.append([input(issued++)]).then(([envelope]) => {
            const committed = performance.now();
            return mirror.mirrored(envelope!.seq).then(() => void lags.push(performance.now() - committed));
          }),
        );
      }
      if (issued < total) setTimeout(tick, 1);
      else resolve();
    };
    setTimeout(tick, 1);
  });
  await Promise.all(pending);
  await mirror.stop();
  await log.close();
  return { lags, maxLagEvents };
};

export async function run(): Promise<void> {
  const root = scratchDir("bench-mirror");
  const server = await startNatsServer({ storeDir: path.join(root, "nats") });
  const nc = await connect({ servers: server.url });
  console.log(`\nbench mirror: nats-server 2.9.10 on ${server.url}, store and logs in ${root}`);
  try {
    await ensureStream(await jetstreamManager(nc));
    // Warm the JIT and the server on both paths before measuring.
    const warm = await mirrorCatchUp(root, server.url, "ws_warm");
    await rawPublish(nc, subjectFor("raw_warm"), warm.lines);

    const raws: Rate[] = [];
    const mirrors: Rate[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const m = await mirrorCatchUp(root, server.url, `ws_round${round}`);
      mirrors.push(m.rate);
      raws.push(await rawPublish(nc, subjectFor(`raw_round${round}`), m.lines));
    }
    const median = (rates: Rate[]): number => rates.map((r) => r.perSecond).sort((a, b) => a - b)[Math.floor(rates.length / 2)]!;
    const mirrorRate = median(mirrors);
    const rawRate = median(raws);

    const steady = await steadyLag(root, server.url);
    const s = summarize(steady.lags);

    report(
      "mirror",
      [
        {
          metric: `mirror catch-up of ${fmtRate(EVENTS)} events, window ${WINDOW} (median of ${ROUNDS})`,
          measured: `${fmtRate(mirrorRate)} ev/s`,
          raw: `${fmtRate(rawRate)} msg/s (js.publish, ${WINDOW} in flight)`,
          ratio: mirrorRate / rawRate,
          target: "≥ 70% of raw",
          pass: mirrorRate / rawRate >= 0.7,
        },
        {
          metric: `mirror lag p99, commit → JetStream ack, steady ${fmtRate(STEADY_RATE)}/s for ${STEADY_SECONDS} s`,
          measured: fmtMs(s.p99),
          target: "< 50 ms",
          pass: s.p99 < 50,
        },
      ],
      [
        `rounds: mirror ${mirrors.map((r) => fmtRate(r.perSecond)).join(", ")} ev/s; raw ${raws.map((r) => fmtRate(r.perSecond)).join(", ")} msg/s`,
        `lag (n=${s.count}): p50 ${fmtMs(s.p50)}, p90 ${fmtMs(s.p90)}, p99 ${fmtMs(s.p99)}, max ${fmtMs(s.max)}; most events behind at any 1 ms tick: ${steady.maxLagEvents}`,
        `lines of ${Math.round(warm.lines.reduce((n, l) => n + Buffer.byteLength(l), 0) / warm.lines.length)} bytes; mirror publishes carry Nats-Msg-Id and Nats-Expected-Stream headers, raw ones none`,
      ],
    );
  } finally {
    await nc.close();
    await server.stop();
    removeDir(root);
  }
}
