import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { scanLog, nodeStorage, logDir } from "@atelier/events";
import { eventually } from "../packages/gateway/test/support/server.ts";

const repo = join(import.meta.dirname, "..");
const dataDir = mkdtempSync(join(tmpdir(), "atelier-start-"));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

it("`npm start` on an empty data dir prints the owner URL within 5 s; the demo's four agents take and release locks; Ctrl-C shuts down cleanly", async () => {
  const started = Date.now();
  // Its own process group, so the test can press Ctrl-C the way a terminal does (npm, tsx and node alike).
  const child = spawn("npm", ["start", "--", "--data", dataDir, "--port", "0"], { cwd: repo, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.on("data", (d) => (out += String(d)));
  child.stderr.on("data", (d) => (err += String(d)));
  // `close` comes once every process holding the pipes (npm, tsx, node) has exited.
  const exited = new Promise<void>((resolve) => child.on("close", () => resolve()));
  try {
    const url = await eventually(() => /(http:\/\/127\.0\.0\.1:\d+)\/\?token=([0-9a-f]{64})/.exec(out) ?? undefined, 10_000).catch(() => {
      throw new Error(`no URL; stdout: ${out}\nstderr: ${err}`);
    });
    expect(Date.now() - started).toBeLessThan(5000);
    const [, base, token] = url;
    const get = async (path: string) => (await fetch(`${base}/api/v2${path}`, { headers: { authorization: `Bearer ${token}` } })).json() as Promise<any>;

    const demo = await eventually(async () => (await get("/workspaces")).items.find((w: { demo: boolean }) => w.demo));
    const lockEvents = async (type: string) => new Set((await get(`/workspaces/${demo.id}/timeline?type=${type}&limit=500`)).items.map((e: { agent: string }) => e.agent));
    await eventually(async () => (await lockEvents("lock.released")).size === 4, 30_000);
    expect([...(await lockEvents("lock.acquired"))].sort()).toEqual(["claude", "codex", "gemini", "kimi"]);
    expect([...(await lockEvents("lock.released"))].sort()).toEqual(["claude", "codex", "gemini", "kimi"]);
    expect((await fetch(`${base}/`)).status).toBe(200);
  } finally {
    process.kill(-child.pid!, "SIGINT");
  }
  await exited;
  expect(err).toContain("closing sockets and workspaces");
  const [folder] = (await import("node:fs")).readdirSync(join(dataDir, "workspaces"));
  // Closed cleanly: the log verifies and the writer lock is released (a fresh scan needs no repair).
  expect(scanLog(nodeStorage(), logDir(join(dataDir, "workspaces", folder!))).torn).toBeUndefined();
});
