import { describe, expect, it } from "vitest";
import { CommandRejected, findPrompt, type PromptQueueContext } from "@atelier/actors";
import { flush, harness, logOf, openWithRunner, recordingRunner, typesOf } from "../harness.ts";

/**
 * Awaits `request` (when given), lets its effects and timers run (the runtime's follow-up
 * transactions), then checks the state they led to.
 */
const settlesAs = async (ws: { status(): string }, state: string, request?: Promise<unknown>): Promise<void> => {
  await request;
  await flush(6);
  expect(ws.status()).toBe(state);
};

const config = { idleTimeoutMs: 1000, hibernateAfterMs: 5000, lifetimeMs: 60_000, maxLifetimeMs: 120_000 };

type TestWorkspace = Awaited<ReturnType<ReturnType<typeof harness>["open"]>>;

/**
 * A workspace whose agent holds a 10 s lease without a runner (as an imported session's locks are,
 * so stopping the workspace does not release it), stopped by `stop` into `state`, which arms no
 * timers, then left for a minute; with its head from before that minute.
 */
const stoppedWithLease = async (stop: (ws: TestWorkspace) => Promise<unknown>, state: string) => {
  const h = harness();
  const ws = await h.open();
  await ws.agents.register({ agentId: "claude", vendor: "claude", model: "opus" });
  await ws.locks.acquire("src/a.ts", "claude", "exclusive", { leaseMs: 10_000 });
  await stop(ws);
  await settlesAs(ws, state);
  expect(ws.timers()).toEqual([]);
  const head = ws.log.head();
  h.clock.advance(60_000);
  await flush(6);
  return { h, ws, head };
};

describe("runtime: workspace lifecycle and timers", () => {
  it("creates an empty workspace as created + activated, with from/to on each event", async () => {
    const ws = await harness().open();
    const log = logOf(ws);
    expect(log.map((e) => [e.type, e.from, e.to])).toEqual([
      ["workspace.created", "uncreated", "creating"],
      ["workspace.activated", "creating", "active"],
    ]);
    expect(ws.status()).toBe("active");
    await ws.close();
  });

  it("a refused command returns a typed error and writes nothing", async () => {
    const ws = await harness().open();
    const head = ws.log.head();
    await expect(ws.lifecycle.restart("ana")).rejects.toMatchObject({ _tag: "CommandRejected", code: "refused" });
    await expect(ws.locks.release("a.ts", "claude")).rejects.toBeInstanceOf(CommandRejected);
    await expect(ws.agents.register({ agentId: "x", vendor: "nope" as never, model: "m" })).rejects.toMatchObject({ _tag: "InvalidEvent", path: "payload.vendor" });
    expect(ws.log.head()).toBe(head);
    await ws.close();
  });

  it("idle and hibernate timers fire as events; a prompt wakes the hibernated workspace and is dispatched after resume", async () => {
    const h = harness();
    const ws = await h.open({ config });
    await ws.agents.register({ agentId: "claude", vendor: "claude", model: "opus" });
    h.clock.advance(1000);
    await flush();
    expect(ws.status()).toBe("idle");
    h.clock.advance(5000);
    await settlesAs(ws, "hibernated");
    expect(typesOf(ws)).toContain("workspace.hibernate_timeout");
    const { promptId } = await ws.prompts.enqueue("claude", { text: "wake up", author: "ana" });
    await settlesAs(ws, "active");
    expect(typesOf(ws).slice(-3)).toEqual(["prompt.enqueued", "workspace.resume_requested", "workspace.resumed"].slice(-3));
    const runner = recordingRunner();
    await ws.runners.connect("claude", runner.sink);
    expect(runner.dispatched.map((p) => p.promptId)).toEqual([promptId]);
    await ws.close();
  });

  it("renew, lifetime expiry and terminate", async () => {
    const h = harness();
    const ws = await h.open({ config: { ...config, idleTimeoutMs: 100_000, hibernateAfterMs: 100_000 } });
    h.clock.advance(50_000);
    await ws.lifecycle.renew();
    h.clock.advance(20_000);
    await flush();
    expect(ws.status()).toBe("active");
    h.clock.advance(40_000);
    await settlesAs(ws, "hibernated");
    await settlesAs(ws, "active", ws.lifecycle.resume());
    await settlesAs(ws, "terminated", ws.lifecycle.terminate("ana"));
    await ws.close();
  });

  it("terminate disconnects the runners; a runner that comes back is refused and nothing follows workspace.terminated", async () => {
    const h = harness();
    const { ws, runner } = await openWithRunner(h);
    await settlesAs(ws, "terminated", ws.lifecycle.terminate("ana"));
    expect(runner.closed).toEqual(["workspace_stopped"]);
    const head = ws.log.head();
    await expect(ws.runners.connect("claude", recordingRunner().sink)).rejects.toMatchObject({ code: "refused", entity: "workspace", state: "terminated" });
    expect(ws.log.head()).toBe(head);
    expect(typesOf(ws).at(-1)).toBe("workspace.terminated");
    await ws.close();
  });

  it("a hibernated workspace is terminated without a resume: its queued prompts are cancelled", async () => {
    const h = harness();
    const ws = await h.open();
    await ws.agents.register({ agentId: "claude", vendor: "claude", model: "opus" });
    const { promptId } = await ws.prompts.enqueue("claude", { text: "later", author: "ana" });
    await settlesAs(ws, "hibernated", ws.lifecycle.hibernate("ana"));
    const head = ws.log.head();
    await settlesAs(ws, "terminated", ws.lifecycle.terminate("ana"));
    expect(typesOf(ws, head + 1)).toEqual(["workspace.terminate_requested", "prompt.cancelled", "workspace.terminated"]);
    expect(logOf(ws).find((e) => e.type === "prompt.cancelled")?.payload).toMatchObject({ promptId, reason: "workspace_terminated" });
    await ws.close();
  });

  it("a workspace in error is terminated without a restart", async () => {
    const h = harness();
    const ws = await h.open({ snapshotStore: { put: () => Promise.reject(new Error("the store is down")), get: async () => undefined } });
    await settlesAs(ws, "error", ws.lifecycle.hibernate("ana"));
    await settlesAs(ws, "terminated", ws.lifecycle.terminate("ana"));
    await ws.close();
  });

  it("a runner that connects while the workspace hibernates is told to come back later; nothing but a wake follows workspace.hibernated", async () => {
    const h = harness();
    const { ws, runner } = await openWithRunner(h);
    await ws.lifecycle.hibernate("ana");
    expect(ws.status()).toBe("hibernating");
    const unavailable = (state: string) => ({ code: "unavailable", entity: "workspace", state });
    await expect(ws.runners.connect("claude", recordingRunner().sink)).rejects.toMatchObject(unavailable("hibernating"));
    await settlesAs(ws, "hibernated");
    expect(runner.closed).toEqual(["workspace_stopped"]);
    const head = ws.log.head();
    await expect(ws.runners.connect("claude", recordingRunner().sink)).rejects.toMatchObject(unavailable("hibernated"));
    // Nor does anything else but a wake: the archive ends at workspace.hibernated.
    const refused = { code: "refused", entity: "workspace", state: "hibernated" };
    await expect(ws.locks.acquire("src/a.ts", "claude", "exclusive")).rejects.toMatchObject(refused);
    await expect(ws.coordinator.sharedContext.set("k", 1, "claude")).rejects.toMatchObject(refused);
    expect(ws.log.head()).toBe(head);
    expect(typesOf(ws).at(-1)).toBe("workspace.hibernated");
    expect(typesOf(ws).filter((t) => t === "agent.connected")).toHaveLength(1);
    await ws.lifecycle.resume();
    await flush(6);
    await ws.runners.connect("claude", recordingRunner().sink);
    expect(typesOf(ws).at(-1)).toBe("agent.connected");
    await ws.close();
  });

  it("nothing follows workspace.terminated: no command is recorded and no deadline fires", async () => {
    const { ws, head } = await stoppedWithLease((ws) => ws.lifecycle.terminate("ana"), "terminated");
    const refused = { code: "refused", entity: "workspace", state: "terminated" };
    await expect(ws.coordinator.sharedContext.set("k", 1, "claude")).rejects.toMatchObject(refused);
    await expect(ws.coordinator.taskQueue.push({ title: "t", by: "claude" })).rejects.toMatchObject(refused);
    await expect(ws.locks.acquire("src/b.ts", "claude", "exclusive")).rejects.toMatchObject(refused);
    expect(ws.log.head()).toBe(head);
    expect(typesOf(ws).at(-1)).toBe("workspace.terminated");
    await ws.close();
  });

  it("a deadline that comes due while the workspace is hibernated waits for the wake, then fires at once", async () => {
    const { h, ws, head } = await stoppedWithLease((ws) => ws.lifecycle.hibernate("ana"), "hibernated");
    expect(ws.log.head()).toBe(head);
    await settlesAs(ws, "active", ws.lifecycle.resume());
    // Re-armed at its own deadline, long past: it fires at the clock's next tick.
    expect(ws.timers().map((t) => t.entity)).toContain("lock:src/a.ts");
    h.clock.advance(0);
    await flush(6);
    expect(typesOf(ws).slice(head)).toEqual(["workspace.resume_requested", "workspace.resumed", "lock.lease_expired"]);
    await ws.close();
  });

  it("error → active on restart", async () => {
    const ws = await harness().open();
    await ws.lifecycle.fail("disk full");
    expect(ws.status()).toBe("error");
    await ws.lifecycle.restart("ana");
    expect(ws.status()).toBe("active");
    await ws.close();
  });
});

describe("runtime: prompts and runners", () => {
  const setup = async (opts = {}) => {
    const h = harness();
    const ws = await h.open(opts);
    await ws.agents.register({ agentId: "claude", vendor: "claude", model: "opus" });
    return { h, ws };
  };

  it("queues while no runner, dispatches on connect, drains the queue one at a time", async () => {
    const { ws } = await setup();
    const a = await ws.prompts.enqueue("claude", { text: "one", author: "ana" });
    const b = await ws.prompts.enqueue("claude", { text: "two", author: "ana" });
    const runner = recordingRunner();
    const conn = await ws.runners.connect("claude", runner.sink);
    expect(runner.dispatched.map((p) => p.promptId)).toEqual([a.promptId]);
    expect(ws.agents.get("claude")!.state).toBe("busy.analyzing");
    await conn.activity("editing");
    expect(ws.agents.get("claude")!.state).toBe("busy.editing");
    await conn.complete(a.promptId, { result: "done", tokensIn: 5, tokensOut: 7, cost: 0.1 });
    expect(runner.dispatched.map((p) => p.promptId)).toEqual([a.promptId, b.promptId]);
    await conn.complete(b.promptId, { result: "done" });
    expect(ws.agents.get("claude")).toMatchObject({ state: "idle", tokensIn: 5, tokensOut: 7, promptsDone: 2 });
    const q = ws.prompts.get("claude")!;
    expect([findPrompt(q, a.promptId)!.status, findPrompt(q, b.promptId)!.status]).toEqual(["completed", "completed"]);
    await ws.close();
  });

  it("higher priority runs first", async () => {
    const { ws } = await setup();
    await ws.prompts.enqueue("claude", { text: "low", author: "ana" });
    const hi = await ws.prompts.enqueue("claude", { text: "high", author: "ana", priority: 5 });
    const runner = recordingRunner();
    await ws.runners.connect("claude", runner.sink);
    expect(runner.dispatched[0]!.promptId).toBe(hi.promptId);
    await ws.close();
  });

  it("enqueue is idempotent by clientRequestId and refuses past the depth limit", async () => {
    const { ws } = await setup({ maxQueueDepth: 2 });
    const first = await ws.prompts.enqueue("claude", { text: "x", author: "ana", clientRequestId: "req-1" });
    const again = await ws.prompts.enqueue("claude", { text: "x", author: "ana", clientRequestId: "req-1" });
    expect(again).toEqual({ promptId: first.promptId, duplicate: true });
    await ws.prompts.enqueue("claude", { text: "y", author: "ana" });
    const head = ws.log.head();
    await expect(ws.prompts.enqueue("claude", { text: "z", author: "ana" })).rejects.toMatchObject({ code: "queue_full" });
    await expect(ws.prompts.enqueue("nobody", { text: "z", author: "ana" })).rejects.toMatchObject({ code: "unknown_agent" });
    expect(ws.log.head()).toBe(head);
    await ws.close();
  });

  it("a disconnect reverts processing to queued; the next runner gets it again; the old one is fenced off", async () => {
    const { ws } = await setup();
    const p = await ws.prompts.enqueue("claude", { text: "one", author: "ana" });
    const r1 = recordingRunner();
    const c1 = await ws.runners.connect("claude", r1.sink);
    const r2 = recordingRunner();
    const c2 = await ws.runners.connect("claude", r2.sink);
    expect(c2.generation).toBe(c1.generation + 1);
    expect(r1.closed).toEqual(["replaced"]);
    expect(r2.dispatched).toEqual([{ promptId: p.promptId, text: "one", attempt: 2 }]);
    await expect(c1.complete(p.promptId, { result: "late" })).rejects.toMatchObject({ code: "stale_runner" });
    await c2.close();
    const q = ws.prompts.get("claude") as PromptQueueContext;
    expect(q.queued).toEqual([p.promptId]);
    expect(q.processing).toBeNull();
    expect(ws.agents.get("claude")!.state).toBe("offline");
    await ws.close();
  });

  it("tool calls and the first token are recorded for the prompt in flight, fenced by generation", async () => {
    const { ws } = await setup();
    const p = await ws.prompts.enqueue("claude", { text: "one", author: "ana" });
    const c1 = await ws.runners.connect("claude", recordingRunner().sink);
    await c1.firstToken(p.promptId);
    await c1.tool(p.promptId, { kind: "edit", file: "src/a.ts", summary: "rename" });
    await expect(c1.firstToken(p.promptId)).rejects.toMatchObject({ code: "refused" });
    await expect(c1.tool("other", { kind: "read", summary: "x" })).rejects.toMatchObject({ code: "refused" });
    expect(ws.agents.get("claude")!.toolCalls).toBe(1);
    const c2 = await ws.runners.connect("claude", recordingRunner().sink);
    await expect(c1.tool(p.promptId, { kind: "run", summary: "late" })).rejects.toMatchObject({ code: "stale_runner" });
    await expect(c1.firstToken(p.promptId)).rejects.toMatchObject({ code: "stale_runner" });
    // The requeued prompt's new attempt gets its own first token.
    await c2.firstToken(p.promptId);
    expect(logOf(ws).at(-1)).toMatchObject({ type: "prompt.first_token", payload: { agent: "claude", promptId: p.promptId, generation: c2.generation } });
    await ws.close();
  });

  it("an interrupting message cancels the prompt in flight and aborts it at the runner", async () => {
    const { ws } = await setup();
    const runner = recordingRunner();
    const conn = await ws.runners.connect("claude", runner.sink);
    const a = await ws.prompts.enqueue("claude", { text: "long", author: "ana" });
    const b = await ws.prompts.enqueue("claude", { text: "stop, do this", author: "ana", interrupt: true });
    expect(runner.aborted).toEqual([a.promptId]);
    expect(runner.dispatched.map((p) => p.promptId)).toEqual([a.promptId, b.promptId]);
    expect(findPrompt(ws.prompts.get("claude")!, a.promptId)!.status).toBe("cancelled");
    await expect(conn.complete(a.promptId, { result: "too late" })).rejects.toMatchObject({ code: "refused" });
    await ws.close();
  });

  it("a runner that stops heartbeating goes offline: its locks are released and its prompt requeued", async () => {
    const { h, ws } = await setup({ heartbeatTtlMs: 30_000 });
    const runner = recordingRunner();
    const conn = await ws.runners.connect("claude", runner.sink);
    await ws.prompts.enqueue("claude", { text: "one", author: "ana" });
    expect((await ws.locks.acquire("a.ts", "claude", "exclusive")).granted).toBe(true);
    for (let i = 0; i < 4; i++) {
      h.clock.advance(10_000);
      conn.heartbeat();
      await flush();
    }
    expect(ws.agents.get("claude")!.state).toBe("busy.analyzing");
    h.clock.advance(30_000);
    await flush();
    expect(ws.agents.get("claude")!.state).toBe("offline");
    expect(ws.locks.query("a.ts").locked).toBe(false);
    expect(ws.prompts.get("claude")!.queued).toHaveLength(1);
    expect(runner.closed).toEqual(["heartbeat_timeout"]);
    await ws.close();
  });
});
