import { describe, expect, it } from "vitest";
import { findPrompt, findRequest, type AtelierEvent, type PromptEffect, type PromptQueueContext } from "@atelier/actors/machines";
import { given } from "../gwt.ts";

const E = "prompts:claude";
const agent = "claude";
const enq = (promptId: string, priority = 0, clientRequestId: string | null = null): AtelierEvent => ({
  type: "prompt.enqueued",
  payload: { at: 1, agent, promptId, clientRequestId, text: `do ${promptId}`, priority, author: "ana" },
});
const start = (promptId: string, attempt = 1, generation = 1): AtelierEvent => ({
  type: "prompt.started",
  payload: { at: 2, agent, promptId, attempt, generation },
});
const done = (promptId: string, generation = 1): AtelierEvent => ({
  type: "prompt.completed",
  payload: { at: 3, agent, promptId, generation, result: "ok", tokensIn: 10, tokensOut: 20, cost: 0.01 },
});
const requeue = (promptId: string): AtelierEvent => ({ type: "prompt.requeued", payload: { at: 4, agent, promptId, reason: "runner_disconnected" } });
const cancel = (promptId: string): AtelierEvent => ({ type: "prompt.cancelled", payload: { at: 5, agent, promptId, reason: "user" } });
const first = (promptId: string, generation = 1): AtelierEvent => ({ type: "prompt.first_token", payload: { at: 3, agent, promptId, generation } });
const ctx = (c: unknown) => c as PromptQueueContext;

describe("prompt queue machine", () => {
  it("enqueue: the prompt is queued and the queue stays idle", () => {
    const t = given(E).when(enq("p1")).moves("idle");
    expect(t.ctx<PromptQueueContext>().prompts.p1!.status).toBe("queued");
  });
  it("an enqueue with a known clientRequestId or promptId is refused (idempotent)", () => {
    given(E, enq("p1", 0, "r1")).when(enq("p2", 0, "r1")).refused();
    given(E, enq("p1")).when(enq("p1")).refused();
  });
  it("orders by priority, then FIFO", () => {
    const g = given(E, enq("a"), enq("b", 5), enq("c"), enq("d", 5));
    expect(ctx(g.snapshot!.context).queued).toEqual(["b", "d", "a", "c"]);
  });
  it("started: queued → processing for the head prompt only, and dispatches it to the runner", () => {
    const t = given(E, enq("p1"), enq("p2")).when(start("p1")).moves("processing");
    expect(t.ctx<PromptQueueContext>().prompts.p1!.status).toBe("processing");
    expect(t.effects).toEqual([{ type: "runner.dispatch", agent, promptId: "p1", text: "do p1", attempt: 1, generation: 1 }]);
    given(E, enq("p1"), enq("p2")).when(start("p2")).refused();
  });
  it("refuses a second dispatch while one is processing", () => {
    given(E, enq("p1"), enq("p2"), start("p1")).when(start("p2")).refused();
  });
  it("completed: processing → completed, queue back to idle", () => {
    const t = given(E, enq("p1"), start("p1")).when(done("p1")).moves("idle");
    expect(findPrompt(t.ctx<PromptQueueContext>(), "p1")!.status).toBe("completed");
  });
  it("refuses a result from another runner generation, or for a prompt not processing", () => {
    given(E, enq("p1"), start("p1", 1, 2)).when(done("p1", 1)).refused();
    given(E, enq("p1")).when(done("p1")).refused();
    given(E, enq("p1"), start("p1"), done("p1")).when(done("p1")).refused();
  });
  it("failed: processing → failed", () => {
    const t = given(E, enq("p1"), start("p1"))
      .when({ type: "prompt.failed", payload: { at: 3, agent, promptId: "p1", generation: 1, error: "boom" } })
      .moves("idle");
    expect(findPrompt(t.ctx<PromptQueueContext>(), "p1")!.status).toBe("failed");
  });
  it("requeued: processing → queued, ahead of later prompts, and the next attempt counts up", () => {
    const g = given(E, enq("p1"), enq("p2"), start("p1"));
    const t = g.when(requeue("p1")).moves("idle");
    expect(t.ctx<PromptQueueContext>().queued).toEqual(["p1", "p2"]);
    given(E, enq("p1"), start("p1"), requeue("p1")).when(start("p1", 2, 2)).moves("processing");
    given(E, enq("p1"), start("p1"), requeue("p1")).when(start("p1", 1, 2)).refused();
    given(E, enq("p1")).when(requeue("p1")).refused();
  });
  it("first_token: accepted once per attempt, only while processing with that generation", () => {
    const t = given(E, enq("p1"), start("p1", 1, 2)).when(first("p1", 2)).moves("processing");
    expect(t.ctx<PromptQueueContext>().prompts.p1!.firstTokenAt).toBe(3);
    given(E, enq("p1"), start("p1", 1, 2), first("p1", 2)).when(first("p1", 2)).refused();
    given(E, enq("p1"), start("p1", 1, 2)).when(first("p1", 1)).refused();
    given(E, enq("p1")).when(first("p1")).refused();
    given(E, enq("p1"), start("p1"), done("p1")).when(first("p1")).refused();
    // A requeue starts a new attempt, which streams its own first token; the old runner's is stale.
    const retried = given(E, enq("p1"), start("p1"), first("p1"), requeue("p1"), start("p1", 2, 2));
    expect(ctx(retried.snapshot!.context).prompts.p1!.firstTokenAt).toBeNull();
    retried.when(first("p1", 1)).refused();
    retried.when(first("p1", 2)).moves("processing");
  });
  it("cancelled: a queued prompt leaves the queue; a processing one is aborted at the runner", () => {
    const q = given(E, enq("p1")).when(cancel("p1")).moves("idle");
    expect(q.ctx<PromptQueueContext>().queued).toEqual([]);
    expect(q.effects).toEqual([]);
    const p = given(E, enq("p1"), start("p1", 1, 3)).when(cancel("p1")).moves("idle");
    expect(p.effects as PromptEffect[]).toEqual([{ type: "runner.abort", agent, promptId: "p1", generation: 3 }]);
    given(E, enq("p1"), start("p1"), done("p1")).when(cancel("p1")).refused();
  });
  it("remembers a bounded number of finished prompts", () => {
    const history: AtelierEvent[] = [];
    for (let i = 0; i < 510; i++) history.push(enq(`p${i}`, 0, `r${i}`), cancel(`p${i}`));
    const g = given(E, ...history);
    const c = ctx(g.snapshot!.context);
    expect(c.finished).toHaveLength(500);
    expect(c.finished[0]).toMatchObject({ promptId: "p10", status: "cancelled" });
    expect(c.prompts).toEqual({});
    expect(findPrompt(c, "p0")).toBeUndefined();
    expect(findRequest(c, "r0")).toBeUndefined();
    expect(findRequest(c, "r509")).toBe("p509");
    // A retained request id still makes a retried enqueue a duplicate.
    g.when(enq("p999", 0, "r509")).refused();
  });
});
