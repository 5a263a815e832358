/**
 * `atelier start` killed with SIGKILL under load, again and again, and started again on the same
 * data folder. Scripted runners (the SDK over real sockets) work throughout; prompts, hibernations
 * (to the local archive), resumes and cancels are sent from three lanes at once, so that each kill
 * lands in the middle of something: an append, an archive, a wake. Afterwards every prompt that got
 * a 202 is in its workspace's log (those held while it was in the archive included) and has ended,
 * no request got an internal error, no hibernation was abandoned, and every read model equals a
 * rebuild of its log.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, expect, it } from "vitest";
import { atelierCatalogue } from "@atelier/actors/machines";
import { checkProjection, readWorkspaceLog } from "@atelier/projections";
import { RunnerClient, scriptedHandler } from "../packages/gateway/src/runner/index.ts";

const ROUNDS = 5;
const AGENTS = ["claude", "gemini", "kimi"] as const;
/** Errors a request may meet while its workspace sleeps, wakes or restarts; anything else 5xx is a bug. */
const EXPECTED_5XX = new Set(["unavailable", "resume_failed"]);

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const data = mkdtempSync(join(tmpdir(), "atelier-crash-"));
afterAll(() => rmSync(data, { recursive: true, force: true }));
const lcg = (seed: number) => () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** What every server of the test printed. */
let serverLog = "";

/** Starts `atelier start` on `port` (0: any), resolving with the URL it prints once it listens. */
const startServer = (port: number): Promise<{ child: ChildProcess; url: string; token: string | undefined }> =>
  new Promise((resolveStart, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "packages/gateway/src/cli/main.ts", "start", "--data", data, "--port", String(port), "--no-demo"], {
      cwd: repoRoot,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    const onData = (chunk: Buffer) => {
      out += chunk;
      serverLog += chunk;
      const m = /running at (http:\/\/[^/\s]+)\/(?:\?token=(\S+))?/.exec(out);
      if (m) resolveStart({ child, url: m[1]!, token: m[2] });
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", (chunk: Buffer) => {
      out += chunk;
      serverLog += chunk;
    });
    child.once("exit", (code) => reject(new Error(`atelier start exited (${code}) before listening:\n${out.slice(-2000)}`)));
  });

it(`loses no acknowledged prompt when the server is killed ${ROUNDS} times under load`, { timeout: 240_000 }, async () => {
  const rand = lcg(11);
  const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  let server = await startServer(0);
  const { url } = server;
  const token = server.token!;
  const port = Number(new URL(url).port);
  const unexpected: string[] = [];
  const api = async (method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> => {
    try {
      const res = await fetch(`${url}/api/v2${path}`, { method, headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, ...(body ? { body: JSON.stringify(body) } : {}) });
      const json = (await res.json().catch(() => null)) as any;
      if (res.status >= 500 && !EXPECTED_5XX.has(json?.error?.code)) unexpected.push(`${method} ${path} ${res.status} ${JSON.stringify(json)}`);
      return { status: res.status, body: json };
    } catch {
      return { status: 0, body: null }; // the server was killed under this request: never acknowledged
    }
  };

  const ids: string[] = [];
  const runners: RunnerClient[] = [];
  for (const name of ["one", "two"]) {
    const created = await api("POST", "/workspaces", { name, agents: AGENTS.map((id) => ({ id, vendor: id, model: "m" })) });
    expect(created.status).toBe(201);
    const id = created.body.workspace.id as string;
    ids.push(id);
    for (const agent of AGENTS) runners.push(new RunnerClient({ url, workspace: id, agent, token: created.body.runnerTokens[agent] }, scriptedHandler(agent, 5)));
  }

  const acknowledged = new Map<string, string>(); // clientRequestId -> workspace
  const prompts: Array<[string, string]> = []; // [promptId, workspace]
  let n = 0;
  let held = 0; // acknowledged while the workspace was in the archive
  let hibernations = 0;
  const act = async () => {
    const id = pick(ids);
    const r = rand();
    if (r < 0.7) {
      const requestId = `r${++n}`;
      const sent = await api("POST", `/workspaces/${id}/agents/${pick(AGENTS)}/execute`, { prompt: requestId, clientRequestId: requestId });
      if (sent.status === 202) acknowledged.set(requestId, id);
      if (sent.status === 202 && sent.body.promptId) prompts.push([sent.body.promptId, id]);
      else if (sent.status === 202) held++;
    } else if (r < 0.74) {
      if ((await api("POST", `/workspaces/${id}/hibernate`, {})).status === 202) hibernations++;
    } else if (r < 0.82) await api("POST", `/workspaces/${id}/resume`, {});
    else if (r < 0.88 && prompts.length > 0) {
      const [promptId, ws] = pick(prompts);
      await api("POST", `/workspaces/${ws}/agents/${pick(AGENTS)}/prompts/${promptId}/cancel`, {});
    } else await api("GET", `/workspaces/${id}/status`);
  };

  try {
    for (let round = 0; round < ROUNDS; round++) {
      const until = Date.now() + 800 + rand() * 1500;
      const lanes = [0, 1, 2].map(async () => {
        while (Date.now() < until) {
          await act();
          await sleep(rand() * 30);
        }
      });
      await sleep(until - Date.now());
      server.child.kill("SIGKILL");
      await new Promise((r) => server.child.once("exit", r));
      await Promise.all(lanes);
      server = await startServer(port);
    }
    expect(acknowledged.size).toBeGreaterThan(50);
    expect(hibernations).toBeGreaterThan(0);
    expect(held).toBeGreaterThan(0);

    // Everything wakes, the runners (reconnecting on their own) finish every prompt.
    const deadline = Date.now() + 90_000;
    let open: string[] = [];
    do {
      open = [];
      for (const id of ids) {
        const queue = await api("GET", `/workspaces/${id}/prompts`);
        if (queue.status !== 200) {
          open.push(`${id}: ${queue.status}`);
          if (queue.status === 409) await api("POST", `/workspaces/${id}/resume`, {});
          continue;
        }
        for (const item of queue.body.items) open.push(...(item.processing ? [item.processing.id] : []), ...item.queued.map((p: { id: string }) => p.id));
      }
      if (open.length > 0) await sleep(500);
    } while (open.length > 0 && Date.now() < deadline);
    expect(open).toEqual([]);

    for (const id of ids) {
      const enqueued = new Set<string>();
      for (let from = 1; ; ) {
        const page = await api("GET", `/workspaces/${id}/events?from=${from}&limit=500`);
        expect(page.status).toBe(200);
        if (page.body.items.length === 0) break;
        for (const e of page.body.items) if (e.type === "prompt.enqueued") enqueued.add(e.payload.clientRequestId);
        from = page.body.items.at(-1).seq + 1;
      }
      const lost = [...acknowledged].filter(([requestId, ws]) => ws === id && !enqueued.has(requestId));
      expect(lost).toEqual([]);
    }
    expect(unexpected).toEqual([]);
    // The local store does not fail: a hibernation abandoned here means its log went on past `workspace.hibernated`.
    expect(serverLog.split("\n").filter((line) => /hibernation failed/.test(line))).toEqual([]);
  } finally {
    await Promise.all(runners.map((r) => r.close()));
    server.child.kill("SIGINT");
    await new Promise((r) => server.child.once("exit", r));
  }
  for (const id of ids) {
    const dir = join(data, "workspaces", id);
    expect(checkProjection(dir, readWorkspaceLog(dir, atelierCatalogue)).ok).toBe(true);
  }
});
