import { describe, expect, it } from "vitest";
import { findTask, pendingTasks, type AtelierEvent, type SharedContextState, type TaskQueueContext } from "@atelier/actors/machines";
import { given } from "../gwt.ts";

const ev = (type: string, payload: Record<string, unknown>) => ({ type, payload }) as AtelierEvent;
const task = (taskId: string, priority = 0, assignee: string | null = null) =>
  ev("task.enqueued", { at: 1, taskId, title: taskId, priority, assignee, data: null, by: "ana" });

describe("task queue machine", () => {
  it("enqueued tasks are pending in priority then FIFO order; duplicates refused", () => {
    const g = given("tasks", task("a"), task("b", 2), task("c"));
    expect(pendingTasks(g.snapshot!.context as TaskQueueContext).map((t) => t.taskId)).toEqual(["b", "a", "c"]);
    g.when(task("a")).refused();
  });
  it("pending → claimed (respecting the assignee) → completed | failed | released", () => {
    given("tasks", task("a", 0, "gemini")).when(ev("task.claimed", { at: 2, taskId: "a", agent: "claude" })).refused();
    const claimed = [task("a"), ev("task.claimed", { at: 2, taskId: "a", agent: "claude" })];
    given("tasks", task("a")).when(ev("task.claimed", { at: 2, taskId: "a", agent: "claude" })).moves("ready");
    given("tasks", ...claimed).when(ev("task.claimed", { at: 2, taskId: "a", agent: "gemini" })).refused();
    const c = given("tasks", ...claimed).when(ev("task.completed", { at: 3, taskId: "a", agent: "claude", result: { ok: true } }));
    expect(c.ctx<TaskQueueContext>().tasks).toEqual({});
    expect(findTask(c.ctx<TaskQueueContext>(), "a")).toMatchObject({ status: "completed", result: { ok: true } });
    given("tasks", ...claimed).when(ev("task.completed", { at: 3, taskId: "a", agent: "gemini", result: null })).refused();
    expect(findTask(given("tasks", ...claimed).when(ev("task.failed", { at: 3, taskId: "a", agent: "claude", error: "x" })).ctx<TaskQueueContext>(), "a")!.status).toBe("failed");
    const r = given("tasks", ...claimed).when(ev("task.released", { at: 3, taskId: "a", agent: "claude", reason: "agent_offline" }));
    expect(r.ctx<TaskQueueContext>().tasks.a).toMatchObject({ status: "pending", claimedBy: null });
  });
  it("remembers a bounded number of finished tasks; open ones stay in the record", () => {
    const history: AtelierEvent[] = [task("open")];
    for (let i = 0; i < 510; i++) history.push(task(`t${i}`), ev("task.claimed", { at: 2, taskId: `t${i}`, agent: "claude" }), ev("task.completed", { at: 3, taskId: `t${i}`, agent: "claude", result: i }));
    const g = given("tasks", ...history);
    const c = g.snapshot!.context as TaskQueueContext;
    expect(c.finished).toHaveLength(500);
    expect(c.finished[0]).toMatchObject({ taskId: "t10", status: "completed", result: 10 });
    expect(Object.keys(c.tasks)).toEqual(["open"]);
    expect(findTask(c, "t0")).toBeUndefined();
    expect(findTask(c, "t509")).toMatchObject({ status: "completed" });
    // A retained finished task id is still taken.
    g.when(task("t509")).refused();
  });
});

describe("shared context machine", () => {
  it("set records value, updatedBy and updatedAt; delete removes known keys only", () => {
    const t = given("context").when(ev("context.updated", { at: 5, key: "plan", value: [1], updatedBy: "claude" })).moves("ready");
    expect(t.ctx<SharedContextState>().entries.plan).toEqual({ value: [1], updatedBy: "claude", updatedAt: 5 });
    given("context", ev("context.updated", { at: 5, key: "plan", value: 1, updatedBy: "c" }))
      .when(ev("context.deleted", { at: 6, key: "plan", deletedBy: "c" }))
      .moves("ready");
    given("context").when(ev("context.deleted", { at: 6, key: "plan", deletedBy: "c" })).refused();
  });
});
