import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Probe, testServer, type TestServer } from "../packages/gateway/test/support/server.ts";

let t: TestServer;
let ws: string;
let runnerToken: string;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  t = await testServer({ limits: { clientRate: { perSecond: 5, burst: 10 } } });
  const created = await t.api("POST", "/workspaces", { name: "roles", agents: [{ id: "claude", vendor: "claude", model: "opus" }] });
  ws = created.body.workspace.id;
  runnerToken = created.body.runnerTokens.claude;
  for (const role of ["collaborator", "viewer"]) tokens[role] = (await t.api("POST", "/tokens", { role, name: role })).body.token;
  tokens.owner = t.owner;
});
afterAll(() => t.close());

/** Each mutating request and who may make it. */
const mutations = () => [
  { method: "POST", path: "/workspaces", body: { name: "x", agents: [{ id: "a", vendor: "custom", model: "m" }] }, allowed: ["owner"] },
  { method: "POST", path: `/workspaces/${ws}/agents/claude/execute`, body: { prompt: "hi" }, allowed: ["owner", "collaborator"] },
  { method: "PUT", path: `/workspaces/${ws}/summary`, body: { text: "s", messageCursor: 1 }, allowed: ["owner", "collaborator"] },
  { method: "POST", path: "/tokens", body: { role: "viewer" }, allowed: ["owner"] },
  { method: "POST", path: `/workspaces/${ws}/agents/claude/runner-token`, body: {}, allowed: ["owner"] },
  ...["hibernate", "resume", "renew", "restart"].map((action) => ({ method: "POST", path: `/workspaces/${ws}/${action}`, body: {}, allowed: ["owner", "collaborator"] })),
  { method: "POST", path: `/workspaces/${ws}/read-models/rebuild`, body: {}, allowed: ["owner"] },
];

describe("role matrix", () => {
  it("viewer cannot mutate, collaborator cannot manage tokens or workspaces; every refusal is 403 and writes nothing", async () => {
    const host = () => t.server.gateway.hosts.get(ws)!;
    for (const role of ["viewer", "collaborator"]) {
      for (const m of mutations()) {
        if (m.allowed.includes(role)) continue;
        const head = host().head;
        const res = await t.api(m.method, m.path, m.body, tokens[role]!);
        expect(res.status, `${role} ${m.method} ${m.path}`).toBe(403);
        expect(res.body.error).toMatchObject({ code: "forbidden", message: expect.stringContaining(role) });
        expect(host().head).toBe(head);
      }
    }
    expect((await t.api("GET", "/tokens", undefined, tokens.collaborator!)).status).toBe(403);
    expect((await t.api("DELETE", `/workspaces/${ws}`, undefined, tokens.collaborator!)).status).toBe(403);
    for (const role of ["owner", "collaborator", "viewer"]) {
      expect((await t.api("GET", `/workspaces/${ws}/status`, undefined, tokens[role]!)).status).toBe(200);
      expect((await t.api("GET", "/me", undefined, tokens[role]!)).body.role).toBe(role);
    }
    expect((await t.api("POST", `/workspaces/${ws}/agents/claude/execute`, { prompt: "ok" }, tokens.collaborator!)).status).toBe(202);
    expect((await t.api("GET", `/workspaces/${ws}/status`, undefined, null)).status).toBe(401);
    expect((await t.api("GET", `/workspaces/${ws}/status`, undefined, "f".repeat(64))).status).toBe(401);
  });

  it("a viewer's socket reads but its prompt frame is refused with 403", async () => {
    const viewer = new Probe(t.wsUrl(ws, `token=${tokens.viewer}`));
    await viewer.until((f) => f.type === "init");
    viewer.send({ type: "prompt", agent: "claude", text: "let me in", clientRequestId: "v1" });
    expect(await viewer.until((f) => f.type === "error")).toMatchObject({ ref: "v1", status: 403, code: "forbidden" });
    await viewer.close();
  });

  it("wrong, rotated and revoked credentials are refused; revocation closes open sockets", async () => {
    const wrong = new Probe(t.wsUrl(ws, "role=runner&agent=claude"), { authorization: `Bearer ${"0".repeat(64)}` });
    expect(await wrong.closed).toMatchObject({ code: 4401, reason: expect.stringContaining("runner token") });
    const apiTokenAsRunner = new Probe(t.wsUrl(ws, `role=runner&agent=claude&token=${t.owner}`));
    expect((await apiTokenAsRunner.closed).code).toBe(4401);

    const runner = new Probe(t.wsUrl(ws, `role=runner&agent=claude&token=${runnerToken}`));
    await runner.until((f) => f.type === "hello");
    const rotated = await t.api("POST", `/workspaces/${ws}/agents/claude/runner-token`, {});
    expect(rotated.status).toBe(201);
    expect(await runner.closed).toMatchObject({ code: 4401 });
    const stale = new Probe(t.wsUrl(ws, `role=runner&agent=claude&token=${runnerToken}`));
    expect((await stale.closed).code).toBe(4401);
    runnerToken = rotated.body.runnerToken;

    const extra = (await t.api("POST", "/tokens", { role: "viewer", name: "soon revoked" })).body;
    const watcher = new Probe(t.wsUrl(ws, `token=${extra.token}`));
    await watcher.until((f) => f.type === "init");
    expect((await t.api("DELETE", `/tokens/${extra.id}`)).status).toBe(200);
    expect(await watcher.closed).toMatchObject({ code: 4401, reason: "token revoked or expired" });
    const after = new Probe(t.wsUrl(ws, `token=${extra.token}`));
    expect((await after.closed).code).toBe(4401);
    expect((await t.api("GET", "/me", undefined, extra.token)).status).toBe(401);
  });

  it("an expiring token's socket closes when it expires", async () => {
    const short = (await t.api("POST", "/tokens", { role: "viewer", ttlMs: 1000 })).body;
    const socket = new Probe(t.wsUrl(ws, `token=${short.token}`));
    await socket.until((f) => f.type === "init");
    expect(await socket.closed).toMatchObject({ code: 4401 });
  });
});

describe("limits (F25, F26)", () => {
  it("oversized frames close with 1009, bad JSON and unknown frames with 4400 and a reason", async () => {
    const big = new Probe(t.wsUrl(ws, `token=${t.owner}`));
    await big.until((f) => f.type === "init");
    big.send(JSON.stringify({ type: "ping", id: "x".repeat(70_000) }));
    expect(await big.closed).toMatchObject({ code: 1009, reason: "frame exceeds the 65536-byte limit" });

    const bad = new Probe(t.wsUrl(ws, `token=${t.owner}`));
    await bad.until((f) => f.type === "init");
    bad.send("{not json");
    expect(await bad.closed).toMatchObject({ code: 4400, reason: expect.stringContaining("not valid JSON") });

    const runner = new Probe(t.wsUrl(ws, `role=runner&agent=claude&token=${runnerToken}`));
    await runner.until((f) => f.type === "hello");
    runner.send({ type: "result", promptId: "p", text: 5 });
    expect(await runner.closed).toMatchObject({ code: 4400, reason: expect.stringContaining("invalid frame") });
  });

  it("a flood is cut off by the per-connection rate limit", async () => {
    const flood = new Probe(t.wsUrl(ws, `token=${t.owner}`));
    await flood.until((f) => f.type === "init");
    for (let i = 0; i < 50; i++) flood.send({ type: "ping" });
    expect(await flood.closed).toMatchObject({ code: 4429, reason: "rate limit exceeded" });
  });

  it("a foreign Origin is refused before the upgrade; the server's own origin is fine", async () => {
    const foreign = new Probe(t.wsUrl(ws, `token=${t.owner}`), { origin: "https://evil.example" });
    await expect(foreign.opened()).rejects.toThrow(/403/);
    const own = new Probe(t.wsUrl(ws, `token=${t.owner}`), { origin: t.server.url });
    await own.until((f) => f.type === "init");
    await own.close();
  });
});
