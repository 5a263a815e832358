import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { localStoreDriver, makeObjectStore, type ObjectStoreDriver } from "@atelier/events";
import type { ServedWorkspaces } from "../src/server/served.ts";
import { eventually, testServer } from "./support/server.ts";

/**
 * The local store whose uploads fail after `ms` (a fault injected over the real driver): a
 * hibernation that lasts that long, then fails before anything is wiped.
 */
const failingUploads = (driver: ObjectStoreDriver, ms: number): ObjectStoreDriver => ({
  ...driver,
  put: async () => {
    await new Promise((r) => setTimeout(r, ms));
    throw new Error("the store is down (injected by the test)");
  },
});

const enqueuedRequests = (host: { ws: { log: { read(o: { from: number }): Iterable<{ type: string; payload: unknown }> } } }) =>
  [...host.ws.log.read({ from: 1 })].filter((e) => e.type === "prompt.enqueued").map((e) => (e.payload as { clientRequestId: string | null }).clientRequestId);

type TestServer = Awaited<ReturnType<typeof testServer>>;
type Host = Awaited<ReturnType<TestServer["server"]["gateway"]["createWorkspace"]>>["host"];

/** Runs `body` on a test server that keeps its log lines, with one workspace `name` (agent claude); closes it after. */
const withWorkspace = async (
  name: string,
  body: (t: TestServer, host: Host, logs: string[]) => Promise<void>,
  options: Parameters<typeof testServer>[0] = {},
): Promise<void> => {
  const logs: string[] = [];
  const t = await testServer({ ...options, log: (line) => logs.push(line) });
  try {
    const { host } = await t.server.gateway.createWorkspace({ name, agents: [{ agentId: "claude", vendor: "claude", model: "opus" }] });
    await body(t, host, logs);
  } finally {
    await t.close();
  }
};

describe("prompts held for a workspace in the archive", () => {
  it("are all queued when it wakes, those that arrive while it is being restored included", () =>
    withWorkspace("sleepy", async (t, host) => {
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
      expect(enqueuedRequests(served).sort()).toEqual([...acknowledged].sort());
      expect(t.server.gateway.workspaces.held(id)).toEqual([]);
    }));

  it("are refused at once when the agent's queue would be full, not acknowledged and dropped at the wake", () =>
    withWorkspace("busy", async (t, host, logs) => {
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
    }));

  it("held while a hibernation fails are queued once the workspace is served again from its folder", async () => {
    const store = mkdtempSync(join(tmpdir(), "atelier-failing-store-"));
    const archive = { primary: makeObjectStore(failingUploads(localStoreDriver(store), 300), { attempts: 1 }), org: "o", team: "t", user: "u", holder: "h" };
    try {
      await withWorkspace("unlucky", async (t, host, logs) => {
        const id = host.id;
        expect((await t.api("POST", `/workspaces/${id}/hibernate`, {})).status).toBe(202);
        await eventually(() => !t.server.gateway.hosts.has(id));
        // While it is being archived its prompts are held; then the upload fails and it is served again.
        const acknowledged: string[] = [];
        for (let i = 0; !t.server.gateway.hosts.has(id); i++) {
          expect(t.server.gateway.workspaces.get(id)!.state).toBe("hibernating");
          const sent = await t.api("POST", `/workspaces/${id}/agents/claude/execute`, { prompt: `p${i}`, clientRequestId: `held-${i}` });
          expect(sent.status).toBe(202);
          acknowledged.push(`held-${i}`);
          await new Promise((r) => setTimeout(r, 20));
        }
        expect(logs.some((l) => l.includes("hibernation failed, the folder is kept"))).toBe(true);
        expect(acknowledged.length).toBeGreaterThan(0);

        // Nothing resumes it from the archive, so serving it again must queue them (which wakes it).
        await eventually(() => t.server.gateway.workspaces.held(id).length === 0);
        const served = await t.server.gateway.host(id);
        await served.ws.settled();
        expect(enqueuedRequests(served).sort()).toEqual([...acknowledged].sort());
        await eventually(() => served.ws.status() === "active");
        expect(t.server.gateway.workspaces.get(id)!.state).toBe("open");
      }, { archive });
    } finally {
      rmSync(store, { recursive: true, force: true });
    }
  });

  it("a prompt that reaches a workspace as it is withdrawn for the archive wakes it: nothing is archived, and it is served again", () =>
    withWorkspace("woken", async (t, host, logs) => {
      const id = host.id;
      // Sent the moment `workspace.hibernated` commits, as a request that had the workspace before it was withdrawn.
      const off = host.ws.log.onCommit((envelopes) => {
        if (!envelopes.some((e) => e.type === "workspace.hibernated")) return;
        off();
        void host.ws.prompts.enqueue("claude", { text: "just in time", author: "ana", clientRequestId: "late" });
      });
      await host.ws.lifecycle.hibernate("ana");
      await eventually(() => logs.some((l) => l.includes("woke while it was being archived")));
      await eventually(() => t.server.gateway.hosts.has(id));
      const served = await t.server.gateway.host(id);
      await eventually(() => served.ws.status() === "active");
      expect(enqueuedRequests(served)).toContain("late");
      expect(t.server.gateway.workspaces.get(id)!.state).toBe("open");
      expect(logs.filter((l) => l.includes("hibernation failed"))).toEqual([]);
      const archive = join(t.dataDir, "archive");
      const manifests = existsSync(archive) ? readdirSync(archive, { recursive: true }).filter((f) => String(f).endsWith("manifest.json")) : [];
      expect(manifests).toEqual([]);
      const listed = (await t.api("GET", `/workspaces/${id}/status`)).body as { workspace: { status: string } };
      expect(listed.workspace.status).toBe("active");
    }));

  it("a workspace woken while it is withdrawn for the archive, before it closes, is served again as it is", () =>
    withWorkspace("early riser", async (t, host, logs) => {
      const id = host.id;
      // Withdrawing awaits the NATS mirror's detach; the test holds that moment open (over the real
      // table) and lands there the prompt of a request that had the workspace before it was withdrawn.
      const served = (t.server.gateway as unknown as { served: ServedWorkspaces }).served;
      const withdraw = served.withdraw.bind(served);
      served.withdraw = async (workspace) => {
        await withdraw(workspace);
        await host.ws.prompts.enqueue("claude", { text: "not yet", author: "ana", clientRequestId: "meanwhile" });
      };
      await host.ws.lifecycle.hibernate("ana");
      await eventually(() => logs.some((l) => l.includes("woke before it was archived")));
      expect(t.server.gateway.hosts.get(id)).toBe(host);
      await eventually(() => host.ws.status() === "active");
      expect(enqueuedRequests(host)).toContain("meanwhile");
      expect((await t.api("GET", `/workspaces/${id}/status`)).body.workspace.status).toBe("active");
      expect(t.server.gateway.workspaces.get(id)!.state).toBe("open");
      expect(logs.filter((l) => /hibernation failed|reopening/.test(l))).toEqual([]);
    }));
});
