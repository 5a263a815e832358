import { rmSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { createDemo, startDemoRunners } from "../src/demo/demo.ts";
import { RunnerClient, scriptedHandler, type RunnerEvent } from "../src/runner/index.ts";
import { eventually, serverWithWorkspace, testServer } from "./support/server.ts";

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe("a runner whose workspace hibernates", () => {
  it("keeps reconnecting while the workspace is in the archive, is back once it resumes, and answers the next prompt", async () => {
    const { data, server, host } = await serverWithWorkspace("runner-hibernate");
    dirs.push(data);
    const id = host.id;
    const token = server.gateway.tokens.create("owner", "owner").token;
    const api = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${server.url}/api/v2${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: res.status, body: (await res.json()) as any };
    };
    const events: RunnerEvent[] = [];
    const runner = new RunnerClient(
      { url: server.url, workspace: id, agent: "claude", token: server.gateway.runnerTokens.issue(id, "claude"), onEvent: (e) => events.push(e) },
      scriptedHandler("claude", 5),
    );
    try {
      // `runners` maps each connected agent to its connection's generation.
      await eventually(async () => (await api("GET", `/workspaces/${id}/status`)).body.runners?.claude === 1);
      expect((await api("POST", `/workspaces/${id}/hibernate`, {})).status).toBe(202);
      await eventually(async () => (await api("GET", `/workspaces/${id}/status`)).body.workspace.state === "hibernated");
      // Refused while in the archive, but not for good: 4503, and the runner tries again.
      const refusal = await eventually(() => events.find((e) => e.type === "closed" && e.code === 4503));
      expect(refusal).toMatchObject({ willReconnect: true, reason: expect.stringContaining("hibernat") });
      expect(events.filter((e) => e.type === "closed" && !e.willReconnect)).toEqual([]);

      expect((await api("POST", `/workspaces/${id}/resume`, {})).status).toBe(200);
      // Back on its own (a new connection generation), within its backoff of at most 10 s.
      await eventually(async () => (await api("GET", `/workspaces/${id}/status`)).body.runners?.claude === 2, 15_000);
      const sent = await api("POST", `/workspaces/${id}/agents/claude/execute`, { prompt: "after the nap" });
      expect(sent.status).toBe(202);
      const run = await eventually(async () => (await api("GET", `/workspaces/${id}/agents/claude/runs?limit=5`)).body.items.find((r: { id: string }) => r.id === sent.body.promptId));
      expect(run).toMatchObject({ outcome: "completed", agent: "claude" });
    } finally {
      await runner.close();
      await server.close();
    }
  }, 40_000);

  it("the demo's runners are started for a demo workspace that is in the archive, and drive it once it resumes", async () => {
    const t = await testServer();
    const demo = await createDemo(t.server.gateway);
    const runners: RunnerClient[] = [];
    try {
      await t.api("POST", `/workspaces/${demo.id}/hibernate`, {});
      await eventually(async () => (await t.api("GET", `/workspaces/${demo.id}/status`)).body.workspace.state === "hibernated");
      // As `atelier start` does after a restart that found the demo asleep.
      runners.push(...startDemoRunners(t.server.gateway, t.server.url, 5));
      expect(runners).toHaveLength(4);
      expect((await t.api("POST", `/workspaces/${demo.id}/resume`, {})).status).toBe(200);
      await eventually(async () => Object.keys((await t.api("GET", `/workspaces/${demo.id}/status`)).body.runners ?? {}).length === 4, 15_000);
    } finally {
      await Promise.all(runners.map((r) => r.close()));
      await t.close();
    }
  }, 40_000);
});
