/**
 * `npm run bench -- gateway`: the gateway's edge under load, over real HTTP and WebSocket on
 * loopback, with the log's default group commit (fdatasync per batch).
 *   1. REST execute → a studio client sees the prompt.enqueued event (p50/p99; target p99 < 10 ms)
 *   2. 200 studio clients on one workspace: commit → every client has the event (p99 < 20 ms)
 *   3. 10 workspaces whose runners heartbeat every 250 ms: the gateway process's CPU share (< 5%),
 *      measured on a separate `atelier start` process so the load generator is not counted.
 * ATELIER_BENCH_SECONDS shortens step 3 (default 60 s).
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { WebSocket } from "ws";
import { startServer, type RunningServer } from "../packages/gateway/src/index.ts";
import { fmtMs, fmtPct, removeDir, repoRoot, report, scratchDir, summarize, type Row } from "./raw.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const api = async (server: string, token: string, method: string, path: string, body?: unknown) => {
  const res = await fetch(`${server}/api/v2${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return res.json() as Promise<any>;
};

/** A studio socket that calls `onEvent` with each committed event as it arrives. */
const client = (url: string, onEvent: (event: any, at: number) => void): Promise<WebSocket> =>
  new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    socket.on("message", (data) => {
      const at = performance.now();
      const frame = JSON.parse(String(data));
      if (frame.type === "init") resolve(socket);
      else if (frame.type === "event") onEvent(frame.event, at);
    });
    socket.once("error", reject);
  });

const workspace = async (base: string, token: string, agents: number) =>
  api(base, token, "POST", "/workspaces", {
    name: "bench",
    agents: Array.from({ length: agents }, (_, i) => ({ id: `a${i}`, vendor: "custom", model: "m" })),
  });

const executeToEvent = async (server: RunningServer, token: string) => {
  const created = await workspace(server.url, token, 10);
  const ws = created.workspace.id;
  const seen = new Map<string, number>();
  const socket = await client(`${server.url.replace("http", "ws")}/api/v2/workspaces/${ws}/ws?token=${token}`, (e, at) => {
    if (e.type === "prompt.enqueued") seen.set(e.payload.clientRequestId, at);
  });
  const samples: number[] = [];
  for (let i = 0; i < 600; i++) {
    const id = `b${i}`;
    const t0 = performance.now();
    await api(server.url, token, "POST", `/workspaces/${ws}/agents/a${i % 10}/execute`, { prompt: "bench", clientRequestId: id });
    while (!seen.has(id)) await sleep(0);
    if (i >= 100) samples.push(seen.get(id)! - t0); // the first 100 warm up
  }
  socket.close();
  return summarize(samples);
};

const fanOut = async (server: RunningServer, token: string, clients: number) => {
  const created = await workspace(server.url, token, 1);
  const ws = created.workspace.id;
  const host = await server.gateway.host(ws);
  const committedAt = new Map<number, number>();
  host.ws.log.onCommit((events) => {
    const at = performance.now();
    for (const e of events) committedAt.set(e.seq, at);
  });
  const samples: number[] = [];
  let received = 0;
  const url = `${server.url.replace("http", "ws")}/api/v2/workspaces/${ws}/ws?token=${token}`;
  const sockets: WebSocket[] = [];
  for (let i = 0; i < clients; i++) {
    sockets.push(
      await client(url, (e, at) => {
        received++;
        const t = committedAt.get(e.seq);
        if (t !== undefined && e.type === "context.updated") samples.push(at - t);
      }),
    );
  }
  for (let i = 0; i < 200; i++) {
    await host.ws.context.set("bench", i, "bench");
    await sleep(10);
  }
  await sleep(200);
  for (const s of sockets) s.close();
  return { summary: summarize(samples), received };
};

/** utime + stime of a process, in seconds (Linux /proc). */
const cpuSeconds = (pid: number): number => {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
};

const heartbeats = async (seconds: number) => {
  const data = scratchDir("bench-gateway-cpu");
  const child = spawn(process.execPath, ["--import", "tsx/esm", "packages/gateway/src/cli/main.ts", "start", "--data", data, "--port", "0", "--no-demo"], {
    cwd: repoRoot,
    stdio: ["ignore", "pipe", "inherit"],
  });
  try {
    let out = "";
    child.stdout.on("data", (d) => (out += String(d)));
    while (!/\?token=/.test(out)) await sleep(20);
    const [, base, token] = /(http:\/\/[\d.]+:\d+)\/\?token=([0-9a-f]{64})/.exec(out)!;
    const runners: WebSocket[] = [];
    for (let i = 0; i < 10; i++) {
      const created = await workspace(base!, token!, 1);
      const socket = new WebSocket(`${base!.replace("http", "ws")}/api/v2/workspaces/${created.workspace.id}/ws?role=runner&agent=a0`, {
        headers: { authorization: `Bearer ${created.runnerTokens.a0}` },
      });
      await new Promise((resolve) => socket.once("message", resolve));
      runners.push(socket);
    }
    await sleep(1000); // let startup work settle before measuring
    const timers = runners.map((s) => setInterval(() => s.send('{"type":"heartbeat"}'), 250));
    const cpu0 = cpuSeconds(child.pid!);
    const t0 = performance.now();
    await sleep(seconds * 1000);
    const share = (cpuSeconds(child.pid!) - cpu0) / ((performance.now() - t0) / 1000);
    timers.forEach(clearInterval);
    runners.forEach((s) => s.close());
    return share;
  } finally {
    child.kill("SIGINT");
    await new Promise((r) => child.once("exit", r));
    removeDir(data);
  }
};

export async function run(): Promise<void> {
  const seconds = Number(process.env.ATELIER_BENCH_SECONDS ?? 60);
  const data = scratchDir("bench-gateway");
  const server = await startServer({ dataDir: data, port: 0, webDist: null, log: () => undefined });
  const rows: Row[] = [];
  try {
    const token = server.gateway.tokens.create("owner", "bench").token;
    const exec = await executeToEvent(server, token);
    rows.push({ metric: "REST execute → client sees prompt.enqueued, p50 (500 sequential)", measured: fmtMs(exec.p50) });
    rows.push({ metric: "REST execute → client sees prompt.enqueued, p99", measured: fmtMs(exec.p99), target: "< 10 ms", pass: exec.p99 < 10 });
    const fan = await fanOut(server, token, 200);
    rows.push({ metric: `commit → all 200 clients have it, p50 (${fan.summary.count} deliveries)`, measured: fmtMs(fan.summary.p50) });
    rows.push({ metric: "commit → all 200 clients have it, p99", measured: fmtMs(fan.summary.p99), target: "< 20 ms", pass: fan.summary.p99 < 20 });
  } finally {
    await server.close();
    removeDir(data);
  }
  const share = await heartbeats(seconds);
  rows.push({ metric: `gateway CPU, 10 workspaces, runner heartbeats every 250 ms, ${seconds} s`, measured: fmtPct(share), target: "< 5%", pass: share < 0.05 });
  report("gateway", rows, [
    "clients and the server of steps 1-2 share one process and event loop (the client side's parsing is counted)",
    "step 3 measures a separate `atelier start` process by /proc utime+stime",
  ]);
}
