import { describe, expect, it } from "vitest";
import { eventually, testServer } from "./support/server.ts";

describe("prompts held for a workspace in the archive", () => {
  it("are all queued when it wakes, those that arrive while it is being restored included", async () => {
    const t = await testServer();
    try {
      const { host } = await t.server.gateway.createWorkspace({ name: "sleepy", agents: [{ agentId: "claude", vendor: "claude", model: "opus" }] });
      const id = host.id;
      expect((await t.api("POST", `/workspaces/${id}/hibernate`, {})).status).toBe(202);
      await eventually(async () => ((await t.api("GET", "/workspaces")).body as { items: Array<{ id: string; state: string }> }).items.find((w) => w.id === id)?.state === "hibernated");

      // The first prompt wakes it; more keep coming, without pause, while it is restored and resumed.
      const acknowledged: string[] = [];
      const states = new Set<string>();
      for (let i = 0; ; i++) {
        const sent = await t.api("POST", `/workspaces/${id}/agents/claude/execute`, { prompt: `p${i}`, clientRequestId: `req-${i}` });
        expect(sent.status).toBe(202);
        acknowledged.push(`req-${i}`);
        const row = t.server.gateway.workspaces.get(id)!;
        states.add(row.state);
        if (t.server.gateway.hosts.has(id)) break;
      }
      // Some of them were held while it was being restored ("resuming"), after the first were queued.
      expect(states).toContain("resuming");

      const served = await t.server.gateway.host(id);
      await served.ws.settled();
      const enqueued = [...served.ws.log.read({ from: 1 })]
        .filter((e) => e.type === "prompt.enqueued")
        .map((e) => (e.payload as { clientRequestId: string | null }).clientRequestId);
      expect(enqueued.sort()).toEqual([...acknowledged].sort());
      expect(t.server.gateway.workspaces.held(id)).toEqual([]);
    } finally {
      await t.close();
    }
  });

  it("are refused at once when the agent's queue would be full, not acknowledged and dropped at the wake", async () => {
    const logs: string[] = [];
    const t = await testServer({ log: (line) => logs.push(line) });
    try {
      const { host } = await t.server.gateway.createWorkspace({ name: "busy", agents: [{ agentId: "claude", vendor: "claude", model: "opus" }] });
      const id = host.id;
      // No runner: they wait, 98 of the 100 the queue takes.
      for (let i = 0; i < 98; i++) expect((await t.api("POST", `/workspaces/${id}/agents/claude/execute`, { prompt: `q${i}` })).status).toBe(202);
      expect((await t.api("POST", `/workspaces/${id}/hibernate`, {})).status).toBe(202);
      await eventually(() => t.server.gateway.workspaces.get(id)?.state === "hibernated" && !t.server.gateway.hosts.has(id));
      expect(t.server.gateway.workspaces.get(id)?.archive?.queued).toEqual({ claude: 98 });

      // Three at once, all held before the wake (a restore) is done: two fit, the third is refused now.
      const hold = (requestId: string) => t.api("POST", `/workspaces/${id}/agents/claude/execute`, { prompt: requestId, clientRequestId: requestId });
      const answers = await Promise.all(["h1", "h2", "h3"].map(hold));
      expect(answers.map((a) => a.status).sort()).toEqual([202, 202, 429]);
      expect(answers.find((a) => a.status === 429)!.body).toMatchObject({ error: { code: "queue_full", message: expect.stringContaining("in the archive") } });

      await eventually(() => t.server.gateway.hosts.has(id));
      const served = await t.server.gateway.host(id);
      await served.ws.settled();
      const queued = (await t.api("GET", `/workspaces/${id}/prompts?agent=claude`)).body as { items: Array<{ queuedTotal: number }> };
      expect(queued.items[0]!.queuedTotal).toBe(100);
      expect(logs.filter((l) => l.includes("refused on wake"))).toEqual([]);
    } finally {
      await t.close();
    }
  });
});
