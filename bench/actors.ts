/**
 * `npm run bench -- actors`: the actor runtime against the raw XState rate measured in the same
 * run. Rows: raw `transition()` rate of the lock machine; lock acquire/release commands per second
 * through the whole runtime (validate → transition → append with fsync "batch" → commit); bus
 * publish→deliver latency on a durable channel; and 001's gate: 10 agents heartbeating every
 * 250 ms, CPU share of the process (ATELIER_BENCH_SECONDS, default 60).
 */
import * as fs from "node:fs";
import { loadavg } from "node:os";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { createActor, initialTransition, transition } from "xstate";
import { nodeStorage, type Storage } from "@atelier/events";
import { lockMachine, openWorkspace, step, type ActorSnapshot, type LockEvent } from "@atelier/actors";
import { fmtMs, fmtPct, fmtRate, removeDir, report, scratchDir, summarize, type Row } from "./raw.ts";

const PAIRS = 100_000;
const IN_FLIGHT = 2_000;
const BUS_SAMPLES = 3_000;
const BUS_BLOCK = 100;
const HEARTBEAT_AGENTS = 10;
const HEARTBEAT_EVERY_MS = 250;

const pair = (token: number): LockEvent[] => [
  { type: "lock.acquired", payload: { at: 1, path: "src/raw.ts", agent: "a", mode: "exclusive", token, expiresAt: 2 } },
  { type: "lock.released", payload: { at: 1, path: "src/raw.ts", agent: "a", token, reason: "released" } },
];

/** Transitions per second of `send(event)` over 1.5 s of alternating acquire/release on one lock. */
const rate = (send: (e: LockEvent) => void): number => {
  const t0 = performance.now();
  let n = 0;
  for (let token = 1; performance.now() - t0 < 1500; token++) for (const e of pair(token)) (send(e), n++);
  return n / ((performance.now() - t0) / 1000);
};

/** Raw XState on the lock machine: a live actor's send(), the library's fastest path. */
const rawActor = (): number => {
  const actor = createActor(lockMachine, { input: { path: "src/raw.ts" } }).start();
  const r = rate((e) => actor.send(e));
  if (actor.getSnapshot().context.lastToken === 0) throw new Error("raw actor refused the events");
  actor.stop();
  return r;
};

/** XState's pure `transition()` as shipped (it builds a throwaway actor per call). */
const rawPure = (): number => {
  let snap = initialTransition(lockMachine, { path: "src/raw.ts" })[0];
  return rate((e) => void (snap = transition(lockMachine, snap, e)[0]));
};

/** Our `step()`: the same pure transition with a cached inert scope (what the runtime uses). */
const ourStep = (): number => {
  let snap: ActorSnapshot | undefined;
  return rate((e) => {
    const s = step("lock:src/raw.ts", snap, e);
    if (!s.accepted) throw new Error("step refused");
    snap = s.after;
  });
};

const open = (dir: string, storage: Storage = nodeStorage()) =>
  openWorkspace(dir, { workspace: "ws_bench", storage, fsync: "batch", snapshotEvery: 10_000, leaseMs: 600_000 });

/** Acquire/release pairs, pipelined IN_FLIGHT commands deep, over 64 files and 8 agents: rate and CPU per command. */
const runtimeCommands = async (): Promise<{ perSecond: number; cpuUs: number }> => {
  const dir = scratchDir("actors-cmd");
  const ws = await open(dir);
  try {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    let inflight: Promise<unknown>[] = [];
    for (let i = 0; i < PAIRS; i++) {
      const path = `src/f${i % 64}.ts`;
      const agent = `agent${i % 8}`;
      inflight.push(ws.locks.acquire(path, agent, "exclusive"), ws.locks.release(path, agent));
      if (inflight.length >= IN_FLIGHT) {
        await Promise.all(inflight);
        inflight = [];
      }
    }
    await Promise.all(inflight);
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    return { perSecond: (PAIRS * 2) / seconds, cpuUs: (cpu.user + cpu.system) / (PAIRS * 2) };
  } finally {
    await ws.close();
    removeDir(dir);
  }
};

/**
 * Node storage whose files time their syncs, so that each bus delivery splits into the log's own
 * fdatasync (the disk) and everything else (the runtime).
 */
const timedStorage = () => {
  const base = nodeStorage();
  const timing = { syncMs: 0 };
  const timed = <A extends unknown[], R>(fn: (...args: A) => R) => (...args: A): R => {
    const t0 = performance.now();
    const result = fn(...args);
    if (!(result instanceof Promise)) return ((timing.syncMs += performance.now() - t0), result);
    return result.finally(() => (timing.syncMs += performance.now() - t0)) as R;
  };
  const storage: Storage = Object.create(base);
  storage.openAppend = (file, options) => {
    const handle = base.openAppend(file, options);
    handle.sync = timed(handle.sync.bind(handle));
    if (handle.syncBlocking) handle.syncBlocking = timed(handle.syncBlocking.bind(handle));
    return handle;
  };
  return { storage, timing };
};

/**
 * One message at a time: publish call → subscriber callback (after fsync), back to back. Blocks of
 * BUS_BLOCK bus samples alternate with blocks of raw write+fdatasync of a ~300-byte line on the
 * same disk, so the raw limit is measured in the same seconds as the bus (a busy disk slows both
 * alike) without spacing out the publishes (a gap between them shortens the bus's tail).
 */
const busLatency = async () => {
  const dir = scratchDir("actors-bus");
  const { storage, timing } = timedStorage();
  const ws = await open(dir, storage);
  const fd = fs.openSync(path.join(dir, "raw.jsonl"), "a");
  const line = Buffer.from(`${"x".repeat(299)}\n`);
  try {
    const bus: number[] = [];
    const ours: number[] = [];
    const logSync: number[] = [];
    const raw: number[] = [];
    let started = 0;
    let resolveDelivery: () => void = () => undefined;
    ws.bus.subscribe("state", () => {
      const latency = performance.now() - started;
      bus.push(latency);
      ours.push(latency - timing.syncMs);
      logSync.push(timing.syncMs);
      resolveDelivery();
    });
    for (let i = 0; i < BUS_SAMPLES; i++) {
      const delivered = new Promise<void>((r) => (resolveDelivery = r));
      timing.syncMs = 0;
      started = performance.now();
      void ws.bus.publish("state", { task_id: `T${i}`, status: "working" }, { sender: "claude" });
      await delivered;
      if ((i + 1) % BUS_BLOCK > 0) continue;
      for (let j = 0; j < BUS_BLOCK; j++) {
        const t0 = performance.now();
        fs.writeSync(fd, line);
        fs.fdatasyncSync(fd);
        raw.push(performance.now() - t0);
      }
    }
    const warm = (samples: number[]) => summarize(samples.slice(100));
    return { bus: warm(bus), ours: warm(ours), logSync: warm(logSync), raw: warm(raw) };
  } finally {
    fs.closeSync(fd);
    await ws.close();
    removeDir(dir);
  }
};

/** 001's gate: 10 connected agents heartbeating every 250 ms; CPU time over wall time. */
const heartbeatCpu = async (seconds: number) => {
  const dir = scratchDir("actors-hb");
  const ws = await open(dir);
  try {
    const conns = [];
    for (let i = 0; i < HEARTBEAT_AGENTS; i++) {
      await ws.agents.register({ agentId: `agent${i}`, vendor: "custom", model: "m" });
      conns.push(await ws.runners.connect(`agent${i}`, { dispatch() {}, abort() {}, close() {} }));
    }
    let beats = 0;
    ws.bus.on("heartbeat", () => beats++);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const timers = conns.map((c, i) =>
      setTimeout(() => {
        c.heartbeat();
        const every = setInterval(() => c.heartbeat(), HEARTBEAT_EVERY_MS);
        timers[i] = every;
      }, (i * HEARTBEAT_EVERY_MS) / HEARTBEAT_AGENTS),
    );
    await new Promise((r) => setTimeout(r, seconds * 1000));
    for (const t of timers) clearInterval(t);
    const cpu = process.cpuUsage(cpu0);
    const wallMs = performance.now() - t0;
    const offline = ws.agents.list().filter((a) => a.state === "offline").length;
    return { share: (cpu.user + cpu.system) / 1000 / wallMs, beats, offline };
  } finally {
    await ws.close();
    removeDir(dir);
  }
};

export async function run(): Promise<void> {
  const seconds = Number(process.env.ATELIER_BENCH_SECONDS ?? 60);
  const load0 = loadavg();
  const raw = rawActor();
  const pure = rawPure();
  const stepRate = ourStep();
  // Latency first, so the throughput run's garbage does not land in its tail.
  const { bus, ours, logSync, raw: floor } = await busLatency();
  const { perSecond: commands, cpuUs } = await runtimeCommands();
  const hb = await heartbeatCpu(seconds);
  const rows: Row[] = [
    { metric: "raw XState: actor.send() on the lock machine (acquire/release)", measured: `${fmtRate(raw)} tr/s` },
    { metric: "XState pure transition() as shipped (new inert actor per call)", measured: `${fmtRate(pure)} tr/s`, raw: `${fmtRate(raw)} tr/s`, ratio: pure / raw },
    { metric: "actors step(): pure transition, cached inert scope", measured: `${fmtRate(stepRate)} tr/s`, raw: `${fmtRate(raw)} tr/s`, ratio: stepRate / raw },
    {
      metric: `runtime lock acquire/release commands, fsync batch, ${IN_FLIGHT} in flight`,
      measured: `${fmtRate(commands)} cmd/s`,
      raw: `${fmtRate(raw)} tr/s (XState send)`,
      ratio: commands / raw,
      target: "≥ 30k cmd/s",
      pass: commands >= 30_000,
    },
    { metric: "bus publish→deliver p50 (durable channel, fsync batch)", measured: fmtMs(bus.p50), raw: `${fmtMs(floor.p50)} (write+fdatasync p50, alternating blocks)` },
    { metric: "bus publish→deliver p99", measured: fmtMs(bus.p99), raw: `${fmtMs(floor.p99)} (write+fdatasync p99, alternating blocks)`, target: "< 1 ms", pass: bus.p99 < 1 },
    { metric: "  of which the runtime (delivery minus the log's own fdatasync) p50 / p99", measured: `${fmtMs(ours.p50)} / ${fmtMs(ours.p99)}` },
    { metric: "  of which the log's fdatasync (call → return, inline or pool) p50 / p99", measured: `${fmtMs(logSync.p50)} / ${fmtMs(logSync.p99)}` },
    {
      metric: `${HEARTBEAT_AGENTS} agents heartbeating every ${HEARTBEAT_EVERY_MS} ms for ${seconds} s: process CPU`,
      measured: fmtPct(hb.share),
      target: "< 5%",
      pass: hb.share < 0.05 && hb.offline === 0,
    },
  ];
  report("actors", rows, [
    `load average before/after: ${load0.map((l) => l.toFixed(1)).join(" ")} / ${loadavg().map((l) => l.toFixed(1)).join(" ")} (this machine has few cores; other load skews every row)`,
    `heartbeats delivered on the ephemeral stream: ${hb.beats}; agents marked offline: ${hb.offline} (must be 0)`,
    "commands/s counts each acquire and each release as one command; ratio = commands/s ÷ raw transitions/s",
    `CPU per command (process, all threads): ${cpuUs.toFixed(1)} µs`,
  ]);
}
