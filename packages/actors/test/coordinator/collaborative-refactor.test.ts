import { describe, expect, it } from "vitest";
import type { AgentCoordinator, Plan, Workspace } from "@atelier/actors";
import { harness, logOf } from "../harness.ts";

/** A scripted agent: plans one edit per file it cares about, executes by "editing" shared context. */
const scriptedAgent = (name: string, ws: Workspace, files: readonly string[]) => ({
  plan: async (requirements: string, targets: readonly string[]): Promise<Plan> => ({
    tasks: targets.filter((f) => files.includes(f)).map((file) => ({ file, agent: name, description: `${requirements} in ${file}` })),
  }),
  execute: async (task: { file: string; agent: string }) => {
    // The write is fenced: it must carry the token of the agent's current grant.
    const q = ws.locks.query(task.file);
    const token = q.holders.find((h) => h.agent === task.agent)!.token;
    expect(ws.locks.checkFence(task.file, task.agent, token)).toBe(true);
    await ws.coordinator.sharedContext.set(`edited:${task.file}`, { token }, task.agent);
    return { diff: `--- ${task.file}\n+++ ${task.file} (${task.agent})` };
  },
});

/** 000 §3.6's example, as written there, against the real coordinator. */
async function collaborativeRefactor(coordinator: AgentCoordinator, agents: Record<string, ReturnType<typeof scriptedAgent>>, targetFiles: string[], requirements: string) {
  const [claudePlan, geminiPlan] = await Promise.all([agents.claude!.plan(requirements, targetFiles), agents.gemini!.plan(requirements, targetFiles)]);
  const mergedPlan = coordinator.mergePlans([claudePlan, geminiPlan]);
  await Promise.all(
    ["claude", "gemini"].map(async (agent) => {
      for (const task of mergedPlan.tasks.filter((t) => t.agent === agent)) {
        const lock = await coordinator.lockManager.acquire(task.file, task.agent, "exclusive", { wait: true });
        if (lock) {
          const result = await agents[task.agent]!.execute(task);
          await coordinator.lockManager.release(task.file, task.agent);
          await coordinator.messageBus.emit("file_modified", { file: task.file, agent: task.agent, diff: result.diff });
        }
      }
    }),
  );
  return mergedPlan;
}

describe("coordinator: collaborativeRefactor (000 §3.6) with two scripted agents", () => {
  it("plans, merges, edits every file under an exclusive lock, and tells the other agent", async () => {
    const ws = await harness().open();
    const { coordinator } = ws;
    const files = ["src/auth.ts", "src/session.ts", "src/db.ts"];
    const agents = {
      claude: scriptedAgent("claude", ws, ["src/auth.ts", "src/session.ts"]),
      gemini: scriptedAgent("gemini", ws, ["src/session.ts", "src/db.ts"]),
    };
    const heard: Record<string, string[]> = { claude: [], gemini: [] };
    for (const me of ["claude", "gemini"]) {
      coordinator.messageBus.on("file_modified", (p) => {
        const { agent, file } = p as { agent: string; file: string };
        if (agent !== me) heard[me]!.push(file);
      });
    }
    const plan = await collaborativeRefactor(coordinator, agents, files, "extract token checks");
    expect(plan.tasks.map((t) => `${t.agent}:${t.file}`)).toEqual(["claude:src/auth.ts", "claude:src/session.ts", "gemini:src/db.ts"]);
    expect(heard).toEqual({ claude: ["src/db.ts"], gemini: ["src/auth.ts", "src/session.ts"] });
    for (const f of files) {
      expect(coordinator.lockManager.query(f)).toEqual({ locked: false });
      expect(coordinator.sharedContext.get(`edited:${f}`)).toMatchObject({ updatedBy: f === "src/db.ts" ? "gemini" : "claude" });
    }
    const lockEvents = logOf(ws).filter((e) => e.type.startsWith("lock.")).map((e) => e.type);
    expect(lockEvents.filter((t) => t === "lock.acquired")).toHaveLength(3);
    expect(lockEvents.filter((t) => t === "lock.released")).toHaveLength(3);
    await ws.close();
  });

  it("lockManager: acquire resolves false when busy, waits when asked, query reports holder and type", async () => {
    const ws = await harness().open();
    const { lockManager } = ws.coordinator;
    expect(await lockManager.acquire("a.ts", "claude", "exclusive")).toBe(true);
    expect(lockManager.query("a.ts")).toEqual({ locked: true, by: "claude", type: "exclusive" });
    expect(await lockManager.acquire("a.ts", "gemini", "shared")).toBe(false);
    const waiting = lockManager.acquire("a.ts", "gemini", "shared", { wait: true });
    await lockManager.release("a.ts", "claude");
    expect(await waiting).toBe(true);
    expect(lockManager.query("a.ts")).toEqual({ locked: true, by: "gemini", type: "shared" });
    await ws.close();
  });

  it("taskQueue hands out tasks by priority; sharedContext records who and when", async () => {
    const h = harness();
    const ws = await h.open();
    const { taskQueue, sharedContext } = ws.coordinator;
    await taskQueue.push({ title: "low", by: "ana" });
    const urgent = await taskQueue.push({ title: "urgent", priority: 9, by: "ana" });
    expect((await taskQueue.claim("claude"))!.taskId).toBe(urgent);
    await taskQueue.complete(urgent, "claude", { ok: true });
    expect(taskQueue.get(urgent)).toMatchObject({ status: "completed", result: { ok: true } });
    expect(taskQueue.pending().map((t) => t.title)).toEqual(["low"]);
    await sharedContext.set("plan", { steps: 3 }, "gemini");
    expect(sharedContext.get("plan")).toEqual({ value: { steps: 3 }, updatedBy: "gemini", updatedAt: h.clock.now() });
    await ws.close();
  });
});
