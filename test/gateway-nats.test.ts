import { afterAll, beforeAll, expect, it } from "vitest";
import { connectNats, mirroredHead } from "@atelier/events";
import { RunnerClient, scriptedHandler } from "@atelier/gateway/runner";
import { startNatsServer, type NatsServer } from "./helpers/nats-server.ts";
import { eventually, testServer } from "../packages/gateway/test/support/server.ts";

let nats: NatsServer;
beforeAll(async () => (nats = await startNatsServer()));
afterAll(() => nats?.stop());

it("with --nats every served workspace's log is mirrored to JetStream, created ones included", async () => {
  const t = await testServer({ nats: nats.url });
  const nc = await connectNats(nats.url, "gateway-nats test");
  try {
    const created = await t.api("POST", "/workspaces", { name: "mirrored", agents: [{ id: "claude", vendor: "claude", model: "opus" }] });
    const ws = created.body.workspace.id;
    await t.api("POST", `/workspaces/${ws}/agents/claude/execute`, { prompt: "hello" });
    const host = await t.server.gateway.host(ws);
    // The stream appears once the mirror's first session has made it; until then the lookup throws.
    const mirrored = () => mirroredHead(nc, "ATELIER", ws).then((h) => h.seq, () => 0);
    await eventually(async () => (await mirrored()) === host.head, 15_000);
  } finally {
    await nc.close();
    await t.close();
  }
});

it("a workspace hibernating with --nats is never missing: a request meanwhile finds it served or asleep, not 404", async () => {
  const t = await testServer({ nats: nats.url });
  try {
    const created = await t.api("POST", "/workspaces", { name: "sleepy", agents: [{ id: "claude", vendor: "claude", model: "opus" }] });
    const ws = created.body.workspace.id as string;
    const statuses = new Set<number>();
    const archived = () => t.server.gateway.workspaces.get(ws)?.state === "hibernated" && !t.server.gateway.hosts.has(ws);
    // Publishes in flight when it hibernates: the mirror's detach waits for them.
    const host = await t.server.gateway.host(ws);
    await Promise.all(Array.from({ length: 300 }, (_, i) => host.ws.bus.publish("chat", { text: `line ${i}` }, { sender: "claude" })));
    const lanes = Array.from({ length: 4 }, async () => {
      for (const deadline = Date.now() + 20_000; !archived() && Date.now() < deadline; ) statuses.add((await t.api("GET", `/workspaces/${ws}/status`)).status);
    });
    expect((await t.api("POST", `/workspaces/${ws}/hibernate`, {})).status).toBe(202);
    await Promise.all(lanes);
    expect(archived()).toBe(true);
    expect([...statuses]).toEqual([200]);
  } finally {
    await t.close();
  }
});

it("a server that stops leaves JetStream holding its whole log: what was committed before the stop is published first", async () => {
  const t = await testServer({ nats: nats.url });
  const nc = await connectNats(nats.url, "gateway-nats test");
  let closed = false;
  try {
    const created = await t.api("POST", "/workspaces", { name: "stopping", agents: [{ id: "claude", vendor: "claude", model: "opus" }] });
    const ws = created.body.workspace.id;
    const host = await t.server.gateway.host(ws);
    const mirrored = () => mirroredHead(nc, "ATELIER", ws).then((h) => h.seq, () => 0);
    await eventually(async () => (await mirrored()) === host.head, 15_000);
    // A runner still connected at the stop: the stop closes its socket, which records its disconnect.
    const runner = new RunnerClient({ url: t.server.url, workspace: ws, agent: "claude", token: created.body.runnerTokens.claude }, scriptedHandler("claude", 1));
    await runner.ready;
    // Far more events than the mirror keeps in flight, committed just before the stop.
    await Promise.all(Array.from({ length: 2000 }, (_, i) => host.ws.coordinator.sharedContext.set(`key ${i}`, i, "claude")));
    let last = "";
    host.ws.log.onCommit((envelopes) => (last = envelopes.at(-1)!.type));
    await t.close();
    closed = true;
    runner.kill();
    expect(last).toBe("agent.disconnected");
    expect(await mirrored()).toBe(host.head);
  } finally {
    await nc.close();
    if (!closed) await t.close();
  }
});
