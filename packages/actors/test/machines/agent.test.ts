import { describe, expect, it } from "vitest";
import type { AgentContext, AtelierEvent } from "@atelier/actors/machines";
import { given } from "../gwt.ts";

const E = "agent:claude";
const reg: AtelierEvent = { type: "agent.registered", payload: { at: 1, agentId: "claude", vendor: "claude", model: "opus", focusPrompt: "auth" } };
const conn = (generation: number): AtelierEvent => ({ type: "agent.connected", payload: { at: 2, generation } });
const disc = (generation: number): AtelierEvent => ({ type: "agent.disconnected", payload: { at: 3, generation, reason: "closed" } });
const work: AtelierEvent = { type: "agent.work_started", payload: { at: 4, promptId: "p1" } };
const act = (activity: "analyzing" | "editing" | "indexing" | "waiting"): AtelierEvent => ({ type: "agent.activity_changed", payload: { at: 5, activity } });
const finished = (promptId = "p1"): AtelierEvent => ({
  type: "agent.work_finished",
  payload: { at: 6, promptId, outcome: "completed", tokensIn: 100, tokensOut: 50, cost: 0.5 },
});
const failed: AtelierEvent = { type: "agent.failed", payload: { at: 7, message: "oom" } };
const restarted: AtelierEvent = { type: "agent.restarted", payload: { at: 8 } };

describe("agent machine", () => {
  it("unregistered → offline on registration, keeping vendor, model and focus", () => {
    const t = given(E).when(reg).moves("offline");
    expect(t.ctx<AgentContext>()).toMatchObject({ vendor: "claude", model: "opus", focusPrompt: "auth" });
    given(E).when({ ...reg, payload: { ...reg.payload, agentId: "gemini" } } as AtelierEvent).refused();
    given(E).when(conn(1)).refused();
  });
  it("offline → idle when a runner connects with the next generation", () => {
    given(E, reg).when(conn(1)).moves("idle");
    given(E, reg).when(conn(2)).refused();
    given(E, reg, conn(1), disc(1)).when(conn(2)).moves("idle");
  });
  it("idle → offline on disconnect of the current generation only; stale ones are refused", () => {
    const t = given(E, reg, conn(1)).when(disc(1)).moves("offline");
    expect(t.effects).toEqual([{ type: "agent.relinquish", agent: "claude", promptId: null, reason: "offline" }]);
    given(E, reg, conn(1), disc(1), conn(2)).when(disc(1)).refused();
  });
  it("idle → busy.analyzing on work; activity moves between busy sub-states", () => {
    given(E, reg, conn(1)).when(work).moves("busy.analyzing");
    for (const a of ["editing", "indexing", "waiting", "analyzing"] as const) {
      given(E, reg, conn(1), work, act(a === "editing" ? "indexing" : "editing")).when(act(a)).moves(`busy.${a}`);
    }
    // Reporting the activity it already has changes nothing, so nothing would be written.
    given(E, reg, conn(1), work).when(act("analyzing")).refused();
    given(E, reg, conn(1)).when(act("editing")).refused();
  });
  it("busy → idle when its prompt finishes; totals grow", () => {
    const t = given(E, reg, conn(1), work, finished()).when(work).moves("busy.analyzing");
    expect(t.ctx<AgentContext>()).toMatchObject({ tokensIn: 100, tokensOut: 50, cost: 0.5, promptsDone: 1 });
    given(E, reg, conn(1), work).when(finished()).moves("idle");
    given(E, reg, conn(1), work).when(finished("other")).refused();
  });
  it("busy → offline on disconnect, relinquishing the prompt", () => {
    const t = given(E, reg, conn(1), work, act("editing")).when(disc(1)).moves("offline");
    expect(t.effects).toEqual([{ type: "agent.relinquish", agent: "claude", promptId: "p1", reason: "offline" }]);
  });
  it("idle|busy → error on failure; error → idle (runner still there) or offline on restart", () => {
    given(E, reg, conn(1)).when(failed).moves("error");
    const t = given(E, reg, conn(1), work).when(failed).moves("error");
    expect(t.effects).toEqual([{ type: "agent.relinquish", agent: "claude", promptId: "p1", reason: "failed" }]);
    given(E, reg, conn(1), failed).when(restarted).moves("idle");
    given(E, reg, conn(1), failed, disc(1)).when(restarted).moves("offline");
    given(E, reg, conn(1), failed, disc(1)).when(conn(2)).moves("error");
    given(E, reg).when(failed).refused();
  });
  it("tool_called: counted while busy with that prompt for the current runner; late or stale calls are refused", () => {
    const tool = (promptId = "p1", generation = 1): AtelierEvent => ({
      type: "agent.tool_called",
      payload: { at: 5, promptId, generation, kind: "edit", file: "src/a.ts", summary: "rename" },
    });
    const t = given(E, reg, conn(1), work, act("editing"), tool()).when(tool()).moves("busy.editing");
    expect(t.ctx<AgentContext>().toolCalls).toBe(2);
    given(E, reg, conn(1), work).when(tool("other")).refused();
    given(E, reg, conn(1), work, finished()).when(tool()).refused();
    given(E, reg, conn(1), disc(1), conn(2), work).when(tool("p1", 1)).refused();
    given(E, reg, conn(1)).when(tool()).refused();
  });
  it("configure changes model or focus in any registered state", () => {
    const t = given(E, reg, conn(1), work).when({ type: "agent.configured", payload: { at: 9, focusPrompt: "db" } }).moves("busy.analyzing");
    expect(t.ctx<AgentContext>()).toMatchObject({ model: "opus", focusPrompt: "db" });
  });
});
