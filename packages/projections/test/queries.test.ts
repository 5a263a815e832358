import type Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { type AppendInput, openLog, VirtualClock } from "@atelier/events";
import { atelierCatalogue } from "@atelier/actors/machines";
import {
  agentMetrics, agentRuns, artifacts, listAgents, listLocks, listMessages, lockContention, lockOf, lockTree, openProjection, openTasks, promptQueue,
  type Queryable, sharedContext, timelinePage, workspaceStatus,
} from "../src/index.ts";
import { cleanup, tempDir, writeWorkspace } from "./support/fixtures.ts";

afterEach(cleanup);

const T = Date.UTC(2026, 10, 23, 10, 0, 0);
const config = { idleTimeoutMs: 300_000, hibernateAfterMs: 1_800_000, lifetimeMs: 28_800_000, maxLifetimeMs: 86_400_000 };
const ev = (type: string, entity: string, payload: Record<string, unknown>): AppendInput => ({ type, entity, payload });

/** Two agents: claude runs a prompt and holds src/a.ts, gemini waits 4 s for it. */
const script: AppendInput[] = [
  ev("workspace.created", "workspace", { at: T, workspaceId: "ws_q", name: "Queries", config }),
  ev("workspace.activated", "workspace", { at: T }),
  ev("agent.registered", "agent:claude", { at: T, agentId: "claude", vendor: "claude", model: "opus", focusPrompt: "auth" }),
  ev("agent.registered", "agent:gemini", { at: T, agentId: "gemini", vendor: "gemini", model: "pro", focusPrompt: "tests" }),
  ev("agent.connected", "agent:claude", { at: T, generation: 1 }),
  ev("agent.connected", "agent:gemini", { at: T, generation: 1 }),
  ev("prompt.enqueued", "prompts:claude", { at: T, agent: "claude", promptId: "p1", clientRequestId: null, text: "later", priority: 0, author: "ann" }),
  ev("prompt.enqueued", "prompts:claude", { at: T + 500, agent: "claude", promptId: "p2", clientRequestId: "r2", text: "refactor auth", priority: 2, author: "ann" }),
  ev("prompt.started", "prompts:claude", { at: T + 2000, agent: "claude", promptId: "p2", attempt: 1, generation: 1 }),
  ev("agent.work_started", "agent:claude", { at: T + 2000, promptId: "p2" }),
  ev("lock.acquired", "lock:src/a.ts", { at: T + 2000, path: "src/a.ts", agent: "claude", mode: "exclusive", token: 1, expiresAt: T + 62_000 }),
  ev("lock.acquired", "lock:docs/readme.md", { at: T + 2000, path: "docs/readme.md", agent: "claude", mode: "shared", token: 1, expiresAt: T + 62_000 }),
  ev("lock.queued", "lock:src/a.ts", { at: T + 3000, path: "src/a.ts", agent: "gemini", mode: "exclusive", leaseMs: 60_000 }),
  ev("agent.activity_changed", "agent:claude", { at: T + 4000, activity: "editing" }),
  ev("lock.released", "lock:src/a.ts", { at: T + 7000, path: "src/a.ts", agent: "claude", token: 1, reason: "released" }),
  ev("lock.acquired", "lock:src/a.ts", { at: T + 7000, path: "src/a.ts", agent: "gemini", mode: "exclusive", token: 2, expiresAt: T + 67_000 }),
  ev("prompt.completed", "prompts:claude", { at: T + 10_000, agent: "claude", promptId: "p2", generation: 1, result: "done", tokensIn: 100, tokensOut: 50, cost: 0.01 }),
  ev("agent.work_finished", "agent:claude", { at: T + 10_000, promptId: "p2", outcome: "completed", tokensIn: 100, tokensOut: 50, cost: 0.01 }),
  ev("bus.published", "channel:state", { at: T + 11_000, channel: "state", messageId: "m1", sender: "gemini", body: { busy: true }, ttlMs: 60_000 }),
  ev("context.updated", "context", { at: T + 12_000, key: "plan", value: ["a", "b"], updatedBy: "claude" }),
  ev("task.enqueued", "tasks", { at: T + 13_000, taskId: "t1", title: "write tests", priority: 1, assignee: null, data: null, by: "ann" }),
  ev("task.claimed", "tasks", { at: T + 14_000, taskId: "t1", agent: "gemini" }),
];

const tool = (at: number, promptId: string, kind: string, file?: string): AppendInput =>
  ev("agent.tool_called", "agent:claude", { at, promptId, generation: 1, kind, ...(file ? { file } : {}), summary: `${kind} ${file ?? ""}` });

/** claude runs p1 twice (requeued after a first token), with tool calls on both attempts. */
const tools: AppendInput[] = [
  ...script.slice(0, 7),
  ev("prompt.started", "prompts:claude", { at: T + 1000, agent: "claude", promptId: "p1", attempt: 1, generation: 1 }),
  ev("agent.work_started", "agent:claude", { at: T + 1000, promptId: "p1" }),
  ev("prompt.first_token", "prompts:claude", { at: T + 1400, agent: "claude", promptId: "p1", generation: 1 }),
  tool(T + 1500, "p1", "edit", "src/a.ts"),
  ev("agent.failed", "agent:claude", { at: T + 1600, message: "crashed" }),
  ev("prompt.requeued", "prompts:claude", { at: T + 1600, agent: "claude", promptId: "p1", reason: "agent_failed" }),
  ev("agent.restarted", "agent:claude", { at: T + 1700 }),
  ev("prompt.started", "prompts:claude", { at: T + 2000, agent: "claude", promptId: "p1", attempt: 2, generation: 1 }),
  ev("agent.work_started", "agent:claude", { at: T + 2000, promptId: "p1" }),
  ev("prompt.first_token", "prompts:claude", { at: T + 2200, agent: "claude", promptId: "p1", generation: 1 }),
  tool(T + 2300, "p1", "read", "src/b.ts"),
  tool(T + 2400, "p1", "edit", "src/b.ts"),
  tool(T + 2500, "p1", "run"),
  tool(T + 2600, "p1", "edit", "src/a.ts"),
  ev("prompt.completed", "prompts:claude", { at: T + 3000, agent: "claude", promptId: "p1", generation: 1, result: "ok", tokensIn: 1, tokensOut: 1, cost: 0 }),
  ev("agent.work_finished", "agent:claude", { at: T + 3000, promptId: "p1", outcome: "completed", tokensIn: 1, tokensOut: 1, cost: 0 }),
];

const scripted = async (events = script) => {
  const dir = tempDir("queries");
  const log = await openLog(dir, { workspace: "ws_q", catalogue: atelierCatalogue, fsync: "none", clock: new VirtualClock(T) });
  const projection = await openProjection(dir, log);
  await log.append(events);
  return { log, projection };
};

describe("queries", () => {
  it("answer the gateway's questions about a scripted workspace", async () => {
    const { log, projection: p } = await scripted();
    expect(workspaceStatus(p)).toMatchObject({ id: "ws_q", status: "active", agents: 2, agentsOnline: 2, openPrompts: 1, heldLocks: 2, lastSeq: 22 });
    expect(listAgents(p).map((a) => [a.id, a.state, a.activity, a.runnerConnected, a.tokensIn])).toEqual([
      ["claude", "idle", null, true, 100],
      ["gemini", "idle", null, true, 0],
    ]);
    const tree = lockTree(p);
    expect(tree).toMatchObject({ held: 2, waiting: 0 });
    expect(tree.children.map((c) => c.path)).toEqual(["docs", "src"]);
    expect(tree.children[1]).toMatchObject({
      kind: "dir", held: 1,
      children: [{ kind: "file", name: "a.ts", lock: { state: "exclusive", token: 2, holders: [{ agent: "gemini", mode: "exclusive", token: 2 }], waiters: [] } }],
    });
    // One file's lock, as the list has it; a file never locked is free.
    for (const lock of listLocks(p)) expect(lockOf(p, lock.path)).toEqual(lock);
    expect(lockOf(p, "docs/readme.md")).toMatchObject({ state: "shared", holders: [{ agent: "claude", mode: "shared", since: T + 2000, expiresAt: T + 62_000 }] });
    expect(lockOf(p, "src/never.ts")).toEqual({ path: "src/never.ts", state: "free", token: 0, leaseExpiresAt: null, holders: [], waiters: [] });
    expect(promptQueue(p)).toMatchObject([
      { agent: "claude", processing: null, queued: [{ id: "p1", priority: 0, text: "later" }], queuedTotal: 1 },
      { agent: "gemini", processing: null, queued: [], queuedTotal: 0 },
    ]);
    const messages = listMessages(p, { limit: 2 });
    expect(messages.items.map((m) => [m.kind, m.agent, m.body])).toEqual([["bus", "gemini", '{"busy":true}'], ["agent", "claude", "done"]]);
    expect(listMessages(p, { before: messages.next, limit: 5 }).items.map((m) => m.ref)).toEqual(["p2", "p1"]);
    expect(timelinePage(p, { type: "lock.acquired" }).items.map((e) => e.seq)).toEqual([11, 12, 16]);
    expect(timelinePage(p, { agent: "gemini", before: 100, limit: 2 })).toMatchObject({ items: [{ seq: 22 }, { seq: 19 }], next: 19 });
    expect(timelinePage(p, { entity: "lock:src/a.ts", type: "lock.queued" }).items).toEqual([
      { seq: 13, ts: new Date(T).toISOString(), type: "lock.queued", entity: "lock:src/a.ts", agent: "gemini" },
    ]);
    const [claude, gemini] = agentMetrics(p);
    expect(claude).toMatchObject({ promptsCompleted: 1, successRate: 1, avgLatencyMs: 8000, avgQueueWaitMs: 1500, activeSeconds: 8, messages: 3, cost: 0.01 });
    expect(gemini).toMatchObject({ lockWaitMs: 4000, lockWaits: 1, messages: 1, successRate: null });
    expect(agentRuns(p, "claude").items).toMatchObject([{ kind: "prompt", id: "p2", outcome: "completed", queueWaitMs: 1500, latencyMs: 8000, attempts: 1 }]);
    expect(lockContention(p)).toEqual({ pairs: [{ waiter: "gemini", blocker: "claude", waits: 1, totalWaitMs: 4000, maxWaitMs: 4000 }], open: [] });
    expect(openTasks(p)).toMatchObject([{ id: "t1", status: "claimed", claimedBy: "gemini" }]);
    expect(sharedContext(p)).toEqual([{ key: "plan", value: '["a","b"]', updatedBy: "claude", updatedAt: T + 12_000 }]);
    await p.close();
    await log.close();
  });

  it("count tool calls, time the first token of each attempt and list edited files newest first", async () => {
    const { log, projection: p } = await scripted(tools);
    expect(agentMetrics(p, { agent: "claude" })).toMatchObject([{ toolCalls: 5, avgTimeToFirstTokenMs: 300 }]);
    expect(agentRuns(p, "claude").items).toMatchObject([{ id: "p1", attempts: 2, timeToFirstTokenMs: 200, toolCalls: 5 }]);
    expect(artifacts(p).items.map((a) => [a.file, a.promptId, a.summary])).toEqual([["src/a.ts", "p1", "edit src/a.ts"], ["src/b.ts", "p1", "edit src/b.ts"]]);
    expect(artifacts(p, { limit: 1 })).toMatchObject({ items: [{ file: "src/a.ts" }], next: 21 });
    await p.close();
    await log.close();
  });

  it("use an index for every statement (no full scan of a growing table)", async () => {
    const dir = tempDir("plans");
    const log = await writeWorkspace(dir, 41, 3000);
    const projection = await openProjection(dir, log);
    const traced: Array<{ sql: string; args: unknown[] }> = [];
    const q: Queryable = {
      statement(sql) {
        const statement = projection.statement(sql);
        const trace = (method: "all" | "get") => (...args: unknown[]) => {
          traced.push({ sql, args });
          return statement[method](...args);
        };
        return { all: trace("all"), get: trace("get") } as unknown as Database.Statement;
      },
    };
    workspaceStatus(q);
    listAgents(q);
    lockTree(q);
    lockOf(q, "src/auth.ts");
    promptQueue(q);
    promptQueue(q, { agent: "claude-0" });
    listMessages(q);
    listMessages(q, { agent: "claude-0", before: 2000 });
    listMessages(q, { channel: "state", before: 2000 });
    for (const filter of [{}, { type: "lock.acquired" }, { agent: "claude-0" }, { entity: "tasks" }, { type: "lock.queued", agent: "gemini-1" }]) {
      timelinePage(q, { ...filter, after: 100 });
      timelinePage(q, { ...filter, before: 2900 });
    }
    agentMetrics(q);
    agentMetrics(q, { agent: "claude-0" });
    agentRuns(q, "claude-0", { before: 2500 });
    artifacts(q, { before: 2500 });
    lockContention(q);
    openTasks(q);
    sharedContext(q);
    const growing = /^SCAN (timeline|messages|prompts|agent_metrics|lock_waits|tasks|artifacts)$/;
    for (const { sql, args } of traced) {
      const plan = projection.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as Array<{ detail: string }>;
      expect(plan.filter((step) => growing.test(step.detail)), sql).toEqual([]);
    }
    await projection.close();
    await log.close();
  });
});
