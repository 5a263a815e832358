import { describe, expect, it } from "vitest";
import { fillableDisk } from "./support/disk.ts";
import { eventually, Probe, testServer } from "./support/server.ts";

describe("a workspace whose log fails (a full disk)", () => {
  it("answers what failed, closes and lists it unavailable with why, and reopens it from its log once it can write again", async () => {
    const { disk, storage } = fillableDisk();
    const logs: string[] = [];
    const t = await testServer({ storage, log: (line) => logs.push(line) });
    try {
      const { host } = await t.server.gateway.createWorkspace({ name: "full", agents: [{ agentId: "claude", vendor: "claude", model: "opus" }] });
      const id = host.id;
      const first = await t.api("POST", `/workspaces/${id}/agents/claude/execute`, { prompt: "before" });
      expect(first.status).toBe(202);
      const studio = new Probe(t.wsUrl(id, `token=${t.owner}`));
      await studio.opened();

      disk.full = true;
      const refused = await t.api("POST", `/workspaces/${id}/agents/claude/execute`, { prompt: "while full" });
      expect(refused).toMatchObject({ status: 503, body: { error: { code: "log_failed", message: expect.stringContaining("ENOSPC") } } });
      // Its sockets are told why and may reconnect; meanwhile it is listed and answered as unavailable.
      expect(await studio.closed).toEqual({ code: 1012, reason: "the workspace's log failed: reconnect once it is reopened" });
      const status = await t.api("GET", `/workspaces/${id}/status`);
      expect(status).toMatchObject({ status: 503, body: { error: { code: "unavailable", message: expect.stringMatching(/not served for now: its log failed \(ENOSPC: append .*\); it is reopened from its log 1 s after that/), details: { since: "log-failure" } } } });
      const listed = ((await t.api("GET", "/workspaces")).body as { items: Array<{ id: string }> }).items.find((w) => w.id === id);
      expect(listed).toMatchObject({ state: "unavailable", error: expect.stringContaining("its log failed"), since: "log-failure" });
      expect(await fetch(`${t.server.url}/healthz`).then((r) => r.json())).toMatchObject({ unavailable: 1 });

      // Reopened after a second; the disk is still full, so the next write fails again and the wait doubles.
      await eventually(async () => (await t.api("GET", `/workspaces/${id}/status`)).status === 200, 5_000);
      expect((await t.api("POST", `/workspaces/${id}/agents/claude/execute`, { prompt: "still full" })).body).toMatchObject({ error: { code: "log_failed" } });
      await eventually(() => logs.some((l) => l.includes(`workspace ${id}: its log failed, closing it; reopened in 2 s`)));

      disk.full = false;
      await eventually(async () => (await t.api("GET", `/workspaces/${id}/status`)).status === 200, 8_000);
      const after = await t.api("POST", `/workspaces/${id}/agents/claude/execute`, { prompt: "after" });
      expect(after.status).toBe(202);
      // What was acknowledged is there; what failed was never recorded.
      const queue = (await t.api("GET", `/workspaces/${id}/prompts?agent=claude`)).body as { items: Array<{ queued: Array<{ text: string }> }> };
      expect(queue.items[0]!.queued.map((p) => p.text)).toEqual(["before", "after"]);
      expect(t.server.gateway.unavailable.size).toBe(0);
      expect(logs.filter((l) => l.includes(`workspace ${id}: reopened after its log failed`)).length).toBe(2);
    } finally {
      await t.close();
    }
  }, 30_000);

  it("a full catalogue (SQLITE_FULL) is answered as a full disk, not an internal error, and changes nothing", async () => {
    const t = await testServer();
    try {
      const catalog = t.server.gateway.catalog;
      // The catalogue may not grow by a page: SQLite's own "database or disk is full", without filling a real disk.
      catalog.pragma(`max_page_count = ${catalog.pragma("page_count", { simple: true }) as number}`);
      let before: unknown;
      let refused: Awaited<ReturnType<typeof t.api>> | undefined;
      for (let i = 0; i < 500 && refused === undefined; i++) {
        before = (await t.api("GET", "/tokens")).body;
        const answer = await t.api("POST", "/tokens", { role: "viewer", name: `viewer ${i}` });
        if (answer.status !== 201) refused = answer;
      }
      expect(refused).toMatchObject({ status: 507, body: { error: { code: "disk_full", message: expect.stringContaining("disk is full") } } });
      expect((await t.api("GET", "/tokens")).body).toEqual(before);
      catalog.pragma("max_page_count = 1073741823");
      expect((await t.api("POST", "/tokens", { role: "viewer", name: "one more" })).status).toBe(201);
    } finally {
      await t.close();
    }
  });
});
