import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RunnerClient, type LockGrant, type PromptHandle } from "@atelier/gateway/runner";
import { Probe, eventually, testServer, type TestServer } from "../packages/gateway/test/support/server.ts";

/** A runner handler that holds each prompt until the test lets it finish. */
const controlled = () => {
  const seen: PromptHandle[] = [];
  const release = new Map<string, () => void>();
  const handler = async (p: PromptHandle) => {
    seen.push(p);
    p.status("editing");
    p.chunk(`working on ${p.text}`);
    await new Promise<void>((resolve, reject) => {
      release.set(p.promptId, resolve);
      p.signal.addEventListener("abort", () => reject(new Error("aborted")), { once: true });
    });
    return { text: `done: ${p.text}`, tokensIn: 10, tokensOut: 20, cost: 0.001 };
  };
  const finish = async (promptId: string) => (await eventually(() => release.get(promptId)))();
  return { seen, handler, finish };
};

let t: TestServer;
let ws: string;
const logs: string[] = [];
let runnerToken: string;

beforeAll(async () => {
  t = await testServer({ log: (line) => logs.push(line) });
  const created = await t.api("POST", "/workspaces", { name: "e2e", agents: [{ id: "claude", vendor: "claude", model: "opus", focus: "own src/auth.ts" }] });
  expect(created.status).toBe(201);
  ws = created.body.workspace.id;
  // The catalogue (what lists the workspace while it is archived) has the workspace's own creation time.
  expect(t.server.gateway.workspaces.get(ws)!.createdAt).toBe(created.body.workspace.createdAt);
  runnerToken = created.body.runnerTokens.claude;
  expect(runnerToken).toMatch(/^[0-9a-f]{64}$/);
});
afterAll(() => t.close());

describe("gateway end to end over real HTTP and WebSocket", () => {
  it("client gets init then live events; prompts dispatch and complete in order; a killed runner's prompt is requeued and completes after reconnect; since= gets exactly the gap", async () => {
    const client = new Probe(t.wsUrl(ws, `token=${t.owner}`));
    const init = await client.until((f) => f.type === "init");
    expect(client.frames[0].type).toBe("init");
    expect(init.agents.map((a: { id: string }) => a.id)).toEqual(["claude"]);
    expect(init.lastSeq).toBe(t.server.gateway.hosts.get(ws)!.head);

    const r1 = controlled();
    const runner = new RunnerClient({ url: t.server.url, workspace: ws, agent: "claude", token: runnerToken }, r1.handler);
    await runner.ready;

    const ids: string[] = [];
    for (const prompt of ["one", "two", "three"]) {
      const res = await t.api("POST", `/workspaces/${ws}/agents/claude/execute`, { prompt, clientRequestId: `req-${prompt}` });
      expect(res.status).toBe(202);
      ids.push(res.body.promptId);
    }
    expect((await t.api("POST", `/workspaces/${ws}/agents/claude/execute`, { prompt: "one", clientRequestId: "req-one" })).body).toMatchObject({ promptId: ids[0], duplicate: true });

    // The first prompt is in flight with its assembled context; the client sees its chunks live.
    await eventually(() => r1.seen.length === 1);
    expect(r1.seen[0]!.context).toMatchObject({ focus: "own src/auth.ts", summary: { summaryVersion: 0, messageCursor: 0 } });
    expect(r1.seen[0]!.context.messages.map((m) => m.text)).toEqual(["one"]);
    await client.until((f) => f.type === "stream" && f.kind === "chunk" && f.text === "working on one");
    await r1.finish(ids[0]!);

    // Kill the runner mid-prompt (no close handshake): the prompt goes back to queued.
    await eventually(() => r1.seen.length === 2);
    expect(r1.seen[1]!.promptId).toBe(ids[1]);
    expect(r1.seen[1]!.context.messages.map((m) => m.text)).toEqual(["one", "two", "three", "done: one"]);
    runner.kill();
    await client.until((f) => f.type === "event" && f.event.type === "prompt.requeued" && f.event.payload.promptId === ids[1]);
    const queue = await t.api("GET", `/workspaces/${ws}/prompts?agent=claude`);
    expect(queue.body.items[0]).toMatchObject({ processing: null, queuedTotal: 2 });
    expect(queue.body.items[0].queued.map((p: { id: string }) => p.id)).toEqual([ids[1], ids[2]]);

    // Disconnect the client, reconnect a runner, finish everything, then catch the client up.
    const lastSeen = Math.max(...client.events().map((e) => e.seq));
    await client.close();
    const r2 = controlled();
    const runner2 = new RunnerClient({ url: t.server.url, workspace: ws, agent: "claude", token: runnerToken }, r2.handler);
    await runner2.ready;
    expect(runner2.generation).toBe(2);
    await eventually(() => r2.seen.length === 1);
    expect(r2.seen[0]).toMatchObject({ promptId: ids[1], attempt: 2 });
    await r2.finish(ids[1]!);
    await eventually(() => r2.seen.length === 2);
    await r2.finish(ids[2]!);
    const host = t.server.gateway.hosts.get(ws)!;
    await eventually(() => host.ws.prompts.get("claude")?.processing === null && host.ws.prompts.get("claude")?.queued.length === 0);
    await host.ws.settled();

    const back = new Probe(t.wsUrl(ws, `token=${t.owner}&since=${lastSeen}`));
    await back.until((f) => f.type === "event" && f.event.seq === host.head);
    const expected = [...host.ws.log.read({ from: lastSeen + 1 })].map((e) => e.seq);
    expect(back.frames.filter((f) => f.type === "init" || f.type === "resync")).toEqual([]);
    expect(back.events().map((e) => e.seq)).toEqual(expected);

    const completed = [...host.ws.log.read({})].filter((e) => e.type === "prompt.completed").map((e) => (e.payload as { promptId: string }).promptId);
    expect(completed).toEqual(ids);
    const dispatched = [...host.ws.log.read({})].filter((e) => e.type === "prompt.started").map((e) => (e.payload as { promptId: string }).promptId);
    expect(dispatched).toEqual([ids[0], ids[1], ids[1], ids[2]]);

    // Live after the catch-up: a new event arrives once, in order.
    await t.api("PUT", `/workspaces/${ws}/summary`, { text: "split auth", messageCursor: 2 });
    await back.until((f) => f.type === "event" && f.event.type === "context.updated");
    const seqs = back.events().map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);

    // A since past the head is answered with an explicit resync and a fresh init.
    const ahead = new Probe(t.wsUrl(ws, `token=${t.owner}&since=${host.head + 100}`));
    await ahead.until((f) => f.type === "init");
    expect(ahead.frames.map((f) => f.type).slice(0, 2)).toEqual(["resync", "init"]);

    await Promise.all([back.close(), ahead.close(), runner2.close()]);
  });

  it("a newer runner replaces the older (closed 4409), takes over its prompt, and only its generation completes it (F14)", async () => {
    const held = controlled();
    const old = new RunnerClient({ url: t.server.url, workspace: ws, agent: "claude", token: runnerToken, reconnect: false }, held.handler);
    await old.ready;
    const res = await t.api("POST", `/workspaces/${ws}/agents/claude/execute`, { prompt: "four" });
    await eventually(() => held.seen.length === 1);
    // Replace the runner while it holds the prompt.
    const oldSocket = (old as unknown as { socket: import("ws").WebSocket }).socket;
    const fresh = controlled();
    const replacement = new RunnerClient({ url: t.server.url, workspace: ws, agent: "claude", token: runnerToken }, fresh.handler);
    await replacement.ready;
    const closed = await new Promise<number>((resolve) => (oldSocket.readyState === 3 ? resolve(4409) : oldSocket.once("close", (code) => resolve(code))));
    expect(closed).toBe(4409);
    await eventually(() => fresh.seen.length === 1);
    expect(fresh.seen[0]).toMatchObject({ promptId: res.body.promptId, attempt: 2 });
    const host = t.server.gateway.hosts.get(ws)!;
    const head = host.head;
    await fresh.finish(res.body.promptId);
    await eventually(() => host.ws.prompts.get("claude")?.processing === null);
    const after = [...host.ws.log.read({ from: head + 1 })].filter((e) => e.type === "prompt.completed");
    expect(after.map((e) => (e.payload as { generation: number }).generation)).toEqual([replacement.generation]);
    await replacement.close();
  });

  it("replay streams the history from a seq at a speed, then says where it ended", async () => {
    const host = t.server.gateway.hosts.get(ws)!;
    const viewer = new Probe(t.wsUrl(ws, `token=${t.owner}&mode=replay&from=3&speed=1000`));
    const end = await viewer.until((f) => f.type === "replay.end", 20_000);
    expect(viewer.frames[0]).toMatchObject({ type: "replay.start", from: 3, to: end.lastSeq });
    expect(viewer.events().map((e) => e.seq)).toEqual([...host.ws.log.read({ from: 3, to: end.lastSeq })].map((e) => e.seq));
    await viewer.close();
  });

  it("cancel, by REST and over the socket: a queued prompt is taken back; a second cancel is refused and changes nothing", async () => {
    // No runner for this agent: its prompts stay queued.
    const created = await t.api("POST", "/workspaces", { name: "cancel", agents: [{ id: "kimi", vendor: "kimi", model: "k2" }] });
    const id = created.body.workspace.id as string;
    const queued = await t.api("POST", `/workspaces/${id}/agents/kimi/execute`, { prompt: "never mind" });
    expect(queued.body).toMatchObject({ state: "queued" });
    const cancel = `/workspaces/${id}/agents/kimi/prompts/${queued.body.promptId}/cancel`;
    const cancelled = await t.api("POST", cancel);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toEqual({ promptId: queued.body.promptId, state: "cancelled" });
    const head = t.server.gateway.hosts.get(id)!.head;
    const again = await t.api("POST", cancel);
    expect(again.status).toBe(409);
    expect(again.body.error.message).toMatch(/prompt\.cancelled/);
    expect(t.server.gateway.hosts.get(id)!.head).toBe(head);
    expect((await t.api("GET", `/workspaces/${id}/prompts`)).body.items).toEqual([{ agent: "kimi", processing: null, queued: [], queuedTotal: 0 }]);

    // The same over the studio's socket: a prompt frame is acked with its id, a cancel frame takes it back, a second is refused.
    const client = new Probe(t.wsUrl(id, `token=${t.owner}`));
    await client.until((f) => f.type === "init");
    client.send({ type: "prompt", agent: "kimi", text: "over the socket", clientRequestId: "ws-1" });
    const acked = await client.until((f) => f.type === "ack" && f.ref === "ws-1");
    client.send({ type: "cancel", agent: "kimi", promptId: acked.promptId });
    await client.until((f) => f.type === "ack" && f.ref === acked.promptId);
    client.send({ type: "cancel", agent: "kimi", promptId: acked.promptId });
    expect(await client.until((f) => f.type === "error" && f.ref === acked.promptId)).toMatchObject({ code: "refused" });
    expect((await t.api("GET", `/workspaces/${id}/prompts`)).body.items[0].queuedTotal).toBe(0);
    await client.close();
    expect((await t.api("DELETE", `/workspaces/${id}`)).status).toBe(202);
    await eventually(() => logs.includes(`workspace ${id}: terminated`));
  });

  it("runner locks over the socket: a grant carries its fencing token; a denial says who holds the file, since when, and how many wait", async () => {
    const created = await t.api("POST", "/workspaces", {
      name: "locks",
      agents: [{ id: "claude", vendor: "claude", model: "opus" }, { id: "gemini", vendor: "gemini", model: "pro" }],
    });
    const id = created.body.workspace.id as string;
    const grants: LockGrant[] = [];
    let letGo: () => void = () => undefined;
    const holder = new RunnerClient({ url: t.server.url, workspace: id, agent: "claude", token: created.body.runnerTokens.claude }, async (p) => {
      grants.push(await p.acquire("src/auth.ts", "exclusive"));
      await new Promise<void>((resolve) => (letGo = resolve));
      await p.release("src/auth.ts");
      return { text: "done", tokensIn: 1, tokensOut: 1, cost: 0 };
    });
    const asker = new RunnerClient({ url: t.server.url, workspace: id, agent: "gemini", token: created.body.runnerTokens.gemini }, async (p) => {
      grants.push(await p.acquire("src/auth.ts", "shared"));
      return { text: "skipped", tokensIn: 1, tokensOut: 1, cost: 0 };
    });
    await Promise.all([holder.ready, asker.ready]);
    await t.api("POST", `/workspaces/${id}/agents/claude/execute`, { prompt: "hold it" });
    await eventually(() => grants.length === 1);
    await t.api("POST", `/workspaces/${id}/agents/gemini/execute`, { prompt: "read it" });
    await eventually(() => grants.length === 2);
    expect(grants[0]).toMatchObject({ granted: true, mode: "exclusive", token: 1 });
    const since = t.server.gateway.hosts.get(id)!.projection.statement("SELECT since FROM lock_holders WHERE path = 'src/auth.ts'").get() as { since: number };
    expect(grants[1]).toEqual({
      granted: false,
      reason: "busy",
      holders: [{ agent: "claude", mode: "exclusive", since: since.since, expiresAt: (grants[0] as { expiresAt: number }).expiresAt }],
      waiting: 0,
      message: `src/auth.ts is held exclusive by claude since ${new Date(since.since).toISOString()} (lease until ${new Date((grants[0] as { expiresAt: number }).expiresAt).toISOString()}); 0 waiting`,
    });
    letGo();
    await holder.close();
    await asker.close();
  });

  it("REST reads: status, agents, locks, messages, timeline pages, events, metrics, contention", async () => {
    const status = await t.api("GET", `/workspaces/${ws}/status`);
    expect(status.body).toMatchObject({ workspace: { id: ws, state: "active" }, lastSeq: expect.any(Number), agents: [{ id: "claude" }] });
    const page1 = await t.api("GET", `/workspaces/${ws}/timeline?from=1&limit=5`);
    expect(page1.body.items.map((e: { seq: number }) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    const page2 = await t.api("GET", `/workspaces/${ws}/timeline?from=${page1.body.next}&limit=5&type=prompt.completed`);
    expect(page2.body.items.every((e: { type: string }) => e.type === "prompt.completed")).toBe(true);
    // Newest first below `before`: the latest events, and `next` continues downwards.
    const latest = await t.api("GET", `/workspaces/${ws}/timeline?before=${page1.body.lastSeq + 1}&limit=3`);
    expect(latest.body.items.map((e: { seq: number }) => e.seq)).toEqual([page1.body.lastSeq, page1.body.lastSeq - 1, page1.body.lastSeq - 2]);
    const earlier = await t.api("GET", `/workspaces/${ws}/timeline?before=${latest.body.next}&limit=2&type=prompt.completed`);
    expect(earlier.body.items.length).toBe(2);
    expect(earlier.body.items.every((e: { seq: number; type: string }) => e.type === "prompt.completed" && e.seq < latest.body.next)).toBe(true);
    expect(earlier.body.items[0].seq).toBeGreaterThan(earlier.body.items[1].seq);
    expect((await t.api("GET", `/workspaces/${ws}/timeline?from=1&before=5`)).body.error.message).toBe("from and before exclude each other: from pages oldest first, before newest first");
    // A malformed parameter is named with what it should be, in words.
    const badLimit = await t.api("GET", `/workspaces/${ws}/timeline?limit=0`);
    expect(badLimit.status).toBe(400);
    expect(badLimit.body.error.message).toBe("invalid query string: limit: Expected a whole number from 1 to 999");
    const events = await t.api("GET", `/workspaces/${ws}/events?from=1&limit=3`);
    expect(events.body.items.map((e: { seq: number; hash: string }) => e.seq)).toEqual([1, 2, 3]);
    const messages = await t.api("GET", `/workspaces/${ws}/messages?limit=2`);
    expect(messages.body.items).toHaveLength(2);
    expect(messages.body.next).toEqual(expect.any(Number));
    expect((await t.api("GET", `/workspaces/${ws}/metrics`)).body.items[0]).toMatchObject({ agent: "claude", promptsCompleted: 4 });
    expect((await t.api("GET", `/workspaces/${ws}/contention`)).status).toBe(200);
    expect((await t.api("GET", `/workspaces/${ws}/locks?view=tree`)).body.tree).toMatchObject({ kind: "dir" });
    expect((await t.api("GET", `/workspaces/${ws}/locks`)).body).toEqual({ items: expect.any(Array) });
    const runs = await t.api("GET", `/workspaces/${ws}/agents/claude/runs?limit=2`);
    expect(runs.body.items).toHaveLength(2);
    expect(runs.body.items[0]).toMatchObject({ agent: "claude", outcome: "completed" });
    const older = await t.api("GET", `/workspaces/${ws}/agents/claude/runs?before=${runs.body.next}&limit=2`);
    expect(older.body.items.length).toBeGreaterThan(0);
    // Tasks come from the coordinator agents use in process; the API shows their data as a JSON value.
    const taskId = await t.server.gateway.hosts.get(ws)!.ws.tasks.push({ title: "split auth.ts", data: { files: ["src/auth.ts"] }, by: "claude" });
    expect((await t.api("GET", `/workspaces/${ws}/tasks`)).body.items).toEqual([
      expect.objectContaining({ id: taskId, title: "split auth.ts", data: { files: ["src/auth.ts"] }, createdBy: "claude", status: "pending" }),
    ]);
    // Values come back as JSON values, not as JSON text inside a string.
    expect((await t.api("GET", `/workspaces/${ws}/context`)).body.items).toEqual([
      { key: "summary", value: { text: "split auth", summaryVersion: 1, messageCursor: 2 }, updatedBy: "owner", updatedAt: expect.any(Number) },
    ]);
    const renewed = await t.api("POST", `/workspaces/${ws}/renew`);
    expect(renewed.status).toBe(202);
    expect(renewed.body).toEqual({ id: ws, state: "active" });
    expect((await t.api("GET", "/workspaces")).body.items.map((w: { id: string }) => w.id)).toContain(ws);
    const metrics = await fetch(`${t.server.url}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(/atelier_prompts_completed_total \d+/);
    expect(await fetch(`${t.server.url}/healthz`).then((r) => r.json())).toMatchObject({ ok: true });
  });

  it("snapshot: every actor's state at a stored seq near the one asked for, for a studio to start its history there", async () => {
    const created = await t.api("POST", "/workspaces", { name: "snapshot", agents: [{ id: "kimi", vendor: "kimi", model: "k2" }] });
    const id = created.body.workspace.id as string;
    expect((await t.api("GET", `/workspaces/${id}/snapshot?at=999`)).body).toEqual({ world: null });
    const host = await t.server.gateway.host(id);
    await host.ws.snapshot();
    const at = host.head;
    await t.api("POST", `/workspaces/${id}/agents/kimi/execute`, { prompt: "after the snapshot" });
    for (const asked of [at, at + 1, 1]) {
      const { world } = (await t.api("GET", `/workspaces/${id}/snapshot?at=${asked}`)).body;
      expect(world.seq).toBe(at);
      expect(world).toEqual(JSON.parse(JSON.stringify(host.ws.snapshotNear(at))));
      expect(world.actors["agent:kimi"]).toMatchObject({ state: "offline" });
    }
    expect((await t.api("GET", `/workspaces/${id}/snapshot`)).body.error.details[0].path).toBe("at");
    expect((await t.api("GET", `/workspaces/${id}/snapshot?at=-1`)).status).toBe(400);
  });
});
