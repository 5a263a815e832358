import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { EXIT, runCheckCommand } from "@atelier/projections";
import { testServer, type TestServer } from "./support/server.ts";

let t: TestServer | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe("a served workspace whose read models are found damaged", () => {
  it("answers 503 to the query that found it, rebuilds them from the log, and answers the next request from them", async () => {
    const logs: string[] = [];
    t = await testServer({ log: (line) => logs.push(line) });
    const { host } = await t.server.gateway.createWorkspace({ name: "damaged", agents: [{ agentId: "claude", vendor: "claude", model: "opus" }] });
    for (let i = 0; i < 5; i++) expect((await t.api("POST", `/workspaces/${host.id}/agents/claude/execute`, { prompt: `p${i}` })).status).toBe(202);

    // Garbage over every page but the first (the WAL folded in first), and the page cache dropped.
    host.projection.db.pragma("wal_checkpoint(TRUNCATE)");
    const file = join(host.dir, "projections.db");
    const bytes = readFileSync(file);
    for (let i = 1_024; i < bytes.length; i += 7) bytes[i]! ^= 0x5a;
    writeFileSync(file, bytes);
    host.projection.db.pragma("shrink_memory");

    const found = await t.api("GET", `/workspaces/${host.id}/agents`);
    expect(found.status).toBe(503);
    expect(found.body.error.code).toBe("read_models_damaged");
    const agents = await t.api("GET", `/workspaces/${host.id}/agents`);
    expect(agents.status).toBe(200);
    expect(agents.body.items.map((a: { id: string }) => a.id)).toEqual(["claude"]);
    const queue = await t.api("GET", `/workspaces/${host.id}/prompts`);
    expect(queue.body.items[0].queuedTotal).toBe(5);
    expect(logs).toContainEqual(expect.stringMatching(new RegExp(`^workspace ${host.id}: read models found damaged \\(.+\\); rebuilding them from the log$`)));
    expect(logs).toContainEqual(expect.stringMatching(new RegExp(`^workspace ${host.id}: read models rebuilt from the log: ${host.head} events, \\d+\\.\\d s$`)));

    // The rebuilt read models follow the log again.
    expect((await t.api("POST", `/workspaces/${host.id}/agents/claude/execute`, { prompt: "after" })).status).toBe(202);
    expect((await t.api("GET", `/workspaces/${host.id}/prompts`)).body.items[0].queuedTotal).toBe(6);
    expect(host.projection.db.pragma("integrity_check", { simple: true })).toBe("ok");
  });

  it("has rows that differ from the log (as `atelier check` finds) replaced on request, by an owner, while served", async () => {
    const logs: string[] = [];
    t = await testServer({ log: (line) => logs.push(line) });
    const { host } = await t.server.gateway.createWorkspace({ name: "tampered", agents: [{ agentId: "claude", vendor: "claude", model: "opus" }] });
    const tamper = new Database(join(host.dir, "projections.db"));
    tamper.prepare("UPDATE agents SET model = 'tampered'").run();
    tamper.close();
    expect((await t.api("GET", `/workspaces/${host.id}/agents`)).body.items[0].model).toBe("tampered");
    const report: string[] = [];
    expect(await runCheckCommand(host.dir, { write: (text) => report.push(text) })).toBe(EXIT.differs);
    expect(report.join("")).toContain("differing tables: agents");
    expect(report.join("")).toContain(`POST /api/v2/workspaces/${host.id}/read-models/rebuild`);

    const rebuilt = await t.api("POST", `/workspaces/${host.id}/read-models/rebuild`);
    expect(rebuilt).toEqual({ status: 200, body: { id: host.id, seq: host.head } });
    expect(host.projection.rebuilt).toBe("requested");
    expect((await t.api("GET", `/workspaces/${host.id}/agents`)).body.items[0].model).toBe("opus");
    expect(await runCheckCommand(host.dir, { write: () => undefined })).toBe(EXIT.ok);
    expect(logs).toContainEqual(`workspace ${host.id}: read models asked to be rebuilt; rebuilding them from the log`);
    expect((await t.api("POST", `/workspaces/${host.id}/agents/claude/execute`, { prompt: "after" })).status).toBe(202);
    expect((await t.api("GET", `/workspaces/${host.id}/prompts`)).body.items[0].queuedTotal).toBe(1);
  });
});
