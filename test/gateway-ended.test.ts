import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { RunnerClient, type RunnerEvent } from "@atelier/gateway/runner";
import { startServer, type RunningServer } from "../packages/gateway/src/server/server.ts";
import { Probe, eventually } from "../packages/gateway/test/support/server.ts";

/** Terminated workspaces: final for their runners, and closed once nobody reads them (their folder stays). */

const CLOSE_AFTER_MS = 300;
const data = mkdtempSync(join(tmpdir(), "atelier-ended-"));
const logs: string[] = [];
let server: RunningServer;
let token: string;

const start = async () => {
  server = await startServer({ dataDir: data, host: "127.0.0.1", port: 0, webDist: null, log: (l) => logs.push(l), closeEndedAfterMs: CLOSE_AFTER_MS });
  token ??= server.gateway.tokens.create("owner", "owner").token;
};
const api = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(`${server.url}/api/v2${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as any };
};
const create = async (name: string) => {
  const created = await api("POST", "/workspaces", { name, agents: [{ id: "claude", vendor: "claude", model: "opus" }] });
  expect(created.status).toBe(201);
  return { id: created.body.workspace.id as string, runnerToken: created.body.runnerTokens.claude as string };
};
const terminate = async (id: string) => {
  expect((await api("DELETE", `/workspaces/${id}`)).status).toBe(202);
  await eventually(() => logs.includes(`workspace ${id}: terminated`));
};
const lastEvent = async (id: string) => (await api("GET", `/workspaces/${id}/timeline?before=999999999999&limit=1`)).body.items[0];

afterAll(async () => {
  await server?.close();
  rmSync(data, { recursive: true, force: true });
});

describe("terminated workspaces", () => {
  it("their runners are closed with 4409 and do not come back; a new runner is refused; nothing follows workspace.terminated", async () => {
    await start();
    const { id, runnerToken } = await create("runners");
    const events: RunnerEvent[] = [];
    const runner = new RunnerClient({ url: server.url, workspace: id, agent: "claude", token: runnerToken, onEvent: (e) => events.push(e) }, async () => ({
      text: "",
      tokensIn: 0,
      tokensOut: 0,
      cost: 0,
    }));
    await runner.ready;
    await terminate(id);
    expect(await eventually(() => events.find((e) => e.type === "closed"))).toMatchObject({ code: 4409, willReconnect: false });
    const head = (await api("GET", `/workspaces/${id}/status`)).body.lastSeq;

    const late = new RunnerClient({ url: server.url, workspace: id, agent: "claude", token: runnerToken, reconnect: false }, async () => ({
      text: "",
      tokensIn: 0,
      tokensOut: 0,
      cost: 0,
    }));
    await expect(late.ready).rejects.toThrow(/terminated/);
    expect((await api("GET", `/workspaces/${id}/status`)).body.lastSeq).toBe(head);
    expect((await lastEvent(id)).type).toBe("workspace.terminated");
    await runner.close();
    await late.close();
  });

  it("a workspace in error is restarted on request, or terminated as it is; a restart of a healthy one is refused", async () => {
    if (!server) await start();
    const { id } = await create("broken");
    const host = await server.gateway.host(id);
    // The runtime's own failure report, as a hibernation whose snapshot could not be stored makes it.
    await host.ws.lifecycle.fail("hibernation failed: the store is down");
    expect((await api("GET", `/workspaces/${id}/status`)).body.workspace).toMatchObject({ status: "error", error: "hibernation failed: the store is down" });
    expect(await api("POST", `/workspaces/${id}/restart`, {})).toMatchObject({ status: 202, body: { id, state: "active" } });
    const again = await api("POST", `/workspaces/${id}/restart`, {});
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({ code: "refused", details: { entity: "workspace", state: "active" } });
    await host.ws.lifecycle.fail("resume failed: the snapshot is unreadable");
    await terminate(id);
    expect((await lastEvent(id)).type).toBe("workspace.terminated");
  });

  it("one nobody reads is closed (a socket keeps it open), listed from the catalogue, opened again by a read, and not opened at start", async () => {
    const { id } = await create("ended");
    expect((await api("POST", `/workspaces/${id}/agents/claude/execute`, { prompt: "never answered" })).status).toBe(202);
    const viewer = new Probe(`${server.url.replace("http", "ws")}/api/v2/workspaces/${id}/ws?token=${token}`);
    await viewer.until((f) => f.type === "init");
    await terminate(id);
    const open = (await api("GET", "/workspaces")).body.items.find((w: { id: string }) => w.id === id);
    expect(open).toMatchObject({ state: "terminated", agents: 1, openPrompts: 0 });

    // Watched: kept open well past the idle time.
    await new Promise((r) => setTimeout(r, CLOSE_AFTER_MS + 1500));
    expect(server.gateway.hosts.has(id)).toBe(true);
    await viewer.close();
    await eventually(() => !server.gateway.hosts.has(id));
    // Said once the close has finished (it leaves the open list before its files are closed).
    await eventually(() => logs.includes(`workspace ${id}: terminated and unused, closed (opened again when read)`));

    // Listed with the line it had when it closed, from the catalogue.
    const closed = (await api("GET", "/workspaces")).body.items.find((w: { id: string }) => w.id === id);
    expect(closed).toEqual(open);
    expect(server.gateway.hosts.has(id)).toBe(false);
    // A socket without valid credentials is refused before anything is opened for it.
    for (const query of ["token=nope", "role=runner&agent=claude&token=nope"]) {
      const stranger = new Probe(`${server.url.replace("http", "ws")}/api/v2/workspaces/${id}/ws?${query}`);
      expect((await stranger.closed).code).toBe(4401);
    }
    expect(server.gateway.hosts.has(id)).toBe(false);

    // A read opens it again, as it was.
    expect((await lastEvent(id)).type).toBe("workspace.terminated");
    expect(server.gateway.hosts.has(id)).toBe(true);
    expect((await api("GET", `/workspaces/${id}/status`)).body.workspace).toMatchObject({ state: "terminated" });
    await eventually(() => !server.gateway.hosts.has(id));

    // A restart leaves it closed until it is read.
    await server.close();
    await start();
    expect(server.gateway.hosts.has(id)).toBe(false);
    expect((await api("GET", "/workspaces")).body.items.find((w: { id: string }) => w.id === id)).toEqual(closed);
    const status = await api("GET", `/workspaces/${id}/status`);
    expect(status.status).toBe(200);
    expect(status.body.lastSeq).toBe(closed.lastSeq);
    expect(server.gateway.hosts.has(id)).toBe(true);
  });

  it("one in the archive can be terminated: it is restored to record its end; a bad request wakes nothing", async () => {
    if (!server) await start();
    const { id } = await create("asleep, then ended");
    expect((await api("POST", `/workspaces/${id}/hibernate`, {})).status).toBe(202);
    await eventually(async () => (await api("GET", `/workspaces/${id}/status`)).body.workspace.state === "hibernated");
    const bad = await api("DELETE", `/workspaces/${id}?force=1`);
    expect(bad.status).toBe(400);
    expect((await api("GET", `/workspaces/${id}/status`)).body.workspace.state).toBe("hibernated");
    await terminate(id);
    expect((await lastEvent(id)).type).toBe("workspace.terminated");
    expect((await api("GET", "/workspaces")).body.items.find((w: { id: string }) => w.id === id).state).toBe("terminated");
  });
});
