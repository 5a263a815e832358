import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deadlinesOf, openWorkspace } from "@atelier/actors";
import {
  gcsStoreDriver,
  latestArchive,
  makeObjectStore,
  objectStoreClient,
  restoreArchive,
  s3StoreDriver,
  VirtualClock,
  workspacePrefix,
  type ObjectStoreShape,
  type WorkspaceLocation,
} from "@atelier/events";
import { startServer, type RunningServer } from "../packages/gateway/src/server/server.ts";
import type { ArchiveSettings } from "../packages/gateway/src/archive/settings.ts";
import { startGcsServer, type GcsTestServer } from "./helpers/gcs-server.ts";
import { startS3Server, type S3TestServer } from "./helpers/s3-server.ts";

const BUCKET = "atelier-gw-hibernate";
const policy = { attempts: 2, baseDelayMs: 20, timeoutMs: 10_000 };

let gcs: GcsTestServer;
let s3: S3TestServer;
let data: string;
let server: RunningServer;
let token: string;
let primary: ObjectStoreShape;
let mirror: ObjectStoreShape;
const clock = new VirtualClock(Date.UTC(2026, 10, 23, 9));
const logs: string[] = [];
const settings = (): ArchiveSettings => ({ primary, mirror, org: "org_1", team: "team_a", user: "user_x", holder: "test-host" });
const location = (workspace: string): WorkspaceLocation => ({ org: "org_1", team: "team_a", user: "user_x", workspace });

beforeAll(async () => {
  [gcs, s3] = await Promise.all([startGcsServer(), startS3Server([BUCKET])]);
  primary = makeObjectStore(gcsStoreDriver({ bucket: BUCKET, apiEndpoint: gcs.endpoint, projectId: gcs.projectId }), policy);
  mirror = makeObjectStore(s3StoreDriver({ bucket: BUCKET, endpoint: s3.endpoint, credentials: s3.credentials }), policy);
  data = mkdtempSync(join(tmpdir(), "atelier-gw-hibernate-"));
  server = await startServer({ dataDir: data, port: 0, webDist: null, clock, archive: settings(), log: (l) => logs.push(l) });
  token = server.gateway.tokens.create("owner", "test").token;
}, 60_000);
afterAll(async () => {
  await server?.close();
  await Promise.all([gcs?.stop(), s3?.stop()]);
  rmSync(data, { recursive: true, force: true });
});

const api = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(`${server.url}/api/v2${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
};
const until = async (what: string, done: () => boolean | Promise<boolean>, ms = 20_000) => {
  const deadline = Date.now() + ms;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};
const stateOf = async (id: string) => (await api("GET", `/workspaces/${id}/status`)).body.workspace?.state as string;
const logBytes = (dir: string) =>
  Buffer.concat(readdirSync(join(dir, "log")).filter((n) => n.endsWith(".jsonl")).sort().map((n) => readFileSync(join(dir, "log", n))));
const withoutWorkspace = (world: { actors: Record<string, unknown> }) => Object.fromEntries(Object.entries(world.actors).filter(([k]) => k !== "workspace"));
const lockTimers = (timers: Array<{ entity: string; key: string }>) => timers.filter((t) => t.entity.startsWith("lock:"));

const createWorkspace = async (name: string) => {
  const res = await api("POST", "/workspaces", { name, agents: [{ id: "claude", vendor: "claude", model: "opus" }, { id: "gemini", vendor: "gemini", model: "pro" }] });
  expect(res.status).toBe(201);
  return { id: res.body.workspace.id as string, runnerTokens: res.body.runnerTokens as Record<string, string> };
};
const hibernate = async (id: string) => {
  expect((await api("POST", `/workspaces/${id}/hibernate`)).status).toBe(202);
  await until(`${id} hibernated`, async () => (await stateOf(id)) === "hibernated" && !existsSync(join(data, "workspaces", id)));
};
/** Flips one byte in every log segment of the workspace in `store`. */
const corrupt = async (store: ObjectStoreShape, id: string) => {
  const client = objectStoreClient(store);
  const objects = await client.list(`${workspacePrefix(location(id))}sessions/`);
  expect(objects.length).toBeGreaterThan(0);
  for (const o of objects) {
    const bytes = Buffer.from(await client.get(o.key));
    bytes[Math.floor(bytes.length / 2)]! ^= 0xff;
    await client.put(o.key, bytes);
  }
};

describe("gateway hibernation over real HTTP, GCS (primary) and S3 (mirror)", () => {
  it("hibernates a live workspace, wakes it with a prompt, keeps bytes, state, deadlines and the queue", async () => {
    const { id, runnerTokens } = await createWorkspace("round trip");
    const host = server.gateway.hosts.get(id)!;
    for (let batch = 0; batch < 30; batch++) {
      await Promise.all(Array.from({ length: 100 }, (_, i) => host.ws.context.set(`k${batch}_${i}`, { batch, i, pad: "x".repeat(40) }, "test")));
    }
    await host.ws.locks.acquire("src/auth.ts", "claude", "exclusive");
    const queued: string[] = [];
    for (const text of ["first", "second"]) {
      const res = await api("POST", `/workspaces/${id}/agents/claude/execute`, { prompt: text });
      expect(res.status).toBe(202);
      queued.push(res.body.promptId);
    }
    await host.ws.settled();
    expect(host.head).toBeGreaterThan(3000);
    const dir = join(data, "workspaces", id);
    const before = { log: logBytes(dir), world: host.ws.state(), locks: lockTimers(host.ws.timers()) };
    expect(before.locks.length).toBe(1);

    const lastActivityAt = (await api("GET", `/workspaces/${id}/status`)).body.workspace.lastActivityAt;
    expect(lastActivityAt).toEqual(expect.any(Number));
    await hibernate(id);
    const listed = (await api("GET", "/workspaces")).body.items.find((w: { id: string }) => w.id === id);
    // Listed from the catalogue, with the activity it had before it went to the archive.
    expect(listed).toMatchObject({ state: "hibernated", lastActivityAt, archive: { mirrorError: null } });
    expect((await api("GET", `/workspaces/${id}/agents`)).body.error.code).toBe("hibernated");

    // The archive verifies on its own (every hash and the chain), in the primary and the mirror.
    const archiveId = (await latestArchive(primary, location(id)))!;
    expect(await latestArchive(mirror, location(id))).toBe(archiveId);
    const checkRoot = mkdtempSync(join(tmpdir(), "atelier-check-"));
    const check = join(checkRoot, id);
    await restoreArchive({ store: primary, location: location(id), archiveId, targetDir: check });
    const archivedLog = logBytes(check);
    expect(archivedLog.subarray(0, before.log.length).equals(before.log)).toBe(true);
    const archived = await openWorkspace(check, { workspace: id, clock });
    expect(archived.status()).toBe("hibernated");
    expect(withoutWorkspace(archived.state())).toEqual(withoutWorkspace(before.world));
    // Its lease is in the archived state; a hibernated workspace arms it only at the wake.
    expect(lockTimers(deadlinesOf(archived.state()))).toEqual(before.locks);
    expect(archived.timers()).toEqual([]);
    await archived.close();
    rmSync(checkRoot, { recursive: true, force: true });

    // A prompt to the hibernated workspace is held durably and wakes it.
    const held = await api("POST", `/workspaces/${id}/agents/claude/execute`, { prompt: "third", clientRequestId: "req-3" });
    expect(held).toMatchObject({ status: 202, body: { state: "held", clientRequestId: "req-3" } });
    await until(`${id} awake`, async () => (await stateOf(id)) === "active");
    const back = server.gateway.hosts.get(id)!;
    expect(logBytes(dir).subarray(0, archivedLog.length).equals(archivedLog)).toBe(true);
    expect(lockTimers(back.ws.timers())).toEqual(before.locks);
    expect(back.ws.state().actors["lock:src/auth.ts"]).toEqual(before.world.actors["lock:src/auth.ts"]);
    const q = back.ws.prompts.get("claude")!;
    expect(q.queued.slice(0, 2)).toEqual(queued);
    expect(q.queued).toHaveLength(3);
    expect(server.gateway.workspaces.held(id)).toEqual([]);
    // The server log tells an operator each step of the round trip.
    expect(logs.filter((l) => l.startsWith(`workspace ${id}: `)).map((l) => l.replace(/ as \S+ /, " as <archive> ").replace(/seq \d+/, "seq N"))).toEqual([
      `workspace ${id}: created ("round trip", agents claude, gemini)`,
      `workspace ${id}: hibernated to ${server.gateway.archive.primary.name} as <archive> (seq N)`,
      `workspace ${id}: resumed from the primary's archive (seq N)`,
    ]);

    // The first queued prompt is dispatched to the runner that connects.
    const url = `${server.url.replace("http", "ws")}/api/v2/workspaces/${id}/ws?role=runner&agent=claude&token=${runnerTokens.claude}`;
    const socket = new WebSocket(url);
    const prompt = await new Promise<{ promptId: string }>((resolve, reject) => {
      socket.on("message", (raw) => {
        const frame = JSON.parse(String(raw)) as { type: string; promptId: string };
        if (frame.type === "prompt") resolve(frame);
      });
      socket.on("error", reject);
      socket.on("close", (code, reason) => reject(new Error(`closed ${code} ${String(reason)}`)));
    });
    expect(prompt.promptId).toBe(queued[0]);
    socket.removeAllListeners("close");
    socket.close();
  }, 60_000);

  it("POST /resume restores it; a corrupt primary falls back to the mirror; both corrupt → a clear error, nothing opened", async () => {
    const { id } = await createWorkspace("faults");
    const host = server.gateway.hosts.get(id)!;
    await Promise.all(Array.from({ length: 200 }, (_, i) => host.ws.context.set(`k${i}`, i, "test")));
    await hibernate(id);
    const resumed = await api("POST", `/workspaces/${id}/resume`);
    expect(resumed).toMatchObject({ status: 200, body: { state: "active" } });

    await hibernate(id);
    await corrupt(primary, id);
    logs.length = 0;
    expect((await api("POST", `/workspaces/${id}/resume`)).status).toBe(200);
    expect(logs.some((l) => l.includes("resumed from the mirror"))).toBe(true);
    const dir = join(data, "workspaces", id);
    const good = logBytes(dir);

    await hibernate(id);
    await corrupt(primary, id);
    await corrupt(mirror, id);
    const failed = await api("POST", `/workspaces/${id}/resume`);
    expect(failed.status).toBe(503);
    expect(failed.body.error.code).toBe("resume_failed");
    expect(failed.body.error.message).toMatch(/primary: .*mirror: /);
    expect(existsSync(dir)).toBe(false);
    expect(server.gateway.hosts.has(id)).toBe(false);
    expect(await stateOf(id)).toBe("hibernated");
    expect(good.length).toBeGreaterThan(0);
  }, 60_000);
});
