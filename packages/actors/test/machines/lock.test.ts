import { describe, expect, it } from "vitest";
import type { AtelierEvent, LockContext, LockGrantsEffect, LockMode } from "@atelier/actors/machines";
import { given } from "../gwt.ts";

const path = "src/auth.ts";
const E = "lock:src/auth.ts";
const acquired = (agent: string, mode: LockMode, token: number, expiresAt = 1000): AtelierEvent => ({
  type: "lock.acquired",
  payload: { at: 1, path, agent, mode, token, expiresAt },
});
const queued = (agent: string, mode: LockMode): AtelierEvent => ({ type: "lock.queued", payload: { at: 2, path, agent, mode, leaseMs: 500 } });
const released = (agent: string, token: number): AtelierEvent => ({
  type: "lock.released",
  payload: { at: 3, path, agent, token, reason: "released" },
});
const expired = (agent: string, token: number, at: number): AtelierEvent => ({ type: "lock.lease_expired", payload: { at, path, agent, token } });
const grants = (effects: readonly { type: string }[]) => (effects as LockGrantsEffect[]).flatMap((e) => e.grants.map((g) => `${g.agent}:${g.mode}`));

describe("lock machine", () => {
  it("free → exclusive on an exclusive grant with token 1", () => {
    const t = given(E).when(acquired("claude", "exclusive", 1)).moves("exclusive");
    expect(t.ctx<LockContext>().lastToken).toBe(1);
  });
  it("free → shared, and more shared holders join", () => {
    given(E).when(acquired("claude", "shared", 1)).moves("shared");
    given(E, acquired("claude", "shared", 1)).when(acquired("gemini", "shared", 2)).moves("shared");
  });
  it("refuses a grant whose token is not lastToken + 1 (fencing tokens strictly increase)", () => {
    given(E).when(acquired("claude", "exclusive", 2)).refused();
    given(E, acquired("claude", "shared", 1)).when(acquired("gemini", "shared", 1)).refused();
  });
  it("refuses an exclusive grant next to another holder, and a shared one next to an exclusive holder", () => {
    given(E, acquired("claude", "shared", 1)).when(acquired("gemini", "exclusive", 2)).refused();
    given(E, acquired("claude", "exclusive", 1)).when(acquired("gemini", "shared", 2)).refused();
  });
  it("refuses a grant the holder already has (exclusive covers shared)", () => {
    given(E, acquired("claude", "exclusive", 1)).when(acquired("claude", "shared", 2)).refused();
  });
  it("upgrades a sole shared holder to exclusive", () => {
    const t = given(E, acquired("claude", "shared", 1)).when(acquired("claude", "exclusive", 2)).moves("exclusive");
    expect(t.ctx<LockContext>().holders).toHaveLength(1);
  });
  it("queues an incompatible request FIFO and refuses a grant while it waits", () => {
    const g = given(E, acquired("claude", "exclusive", 1), queued("gemini", "exclusive"));
    expect((g.snapshot!.context as LockContext).waiters.map((w) => w.agent)).toEqual(["gemini"]);
    g.when(acquired("kimi", "exclusive", 2)).refused();
  });
  it("refuses to queue a request that could be granted now, or one already waiting", () => {
    given(E).when(queued("claude", "shared")).refused();
    given(E, acquired("claude", "exclusive", 1), queued("gemini", "shared")).when(queued("gemini", "shared")).refused();
  });
  it("a waiting exclusive blocks new shared requests (no starvation)", () => {
    const g = given(E, acquired("claude", "shared", 1), queued("gemini", "exclusive"));
    g.when(acquired("kimi", "shared", 2)).refused();
    g.when(queued("kimi", "shared")).moves("shared");
  });
  it("release → free, and announces the head waiter as grantable", () => {
    const t = given(E, acquired("claude", "exclusive", 1), queued("gemini", "exclusive")).when(released("claude", 1)).moves("free");
    expect(grants(t.effects)).toEqual(["gemini:exclusive"]);
  });
  it("release grants a run of shared waiters up to the next exclusive one", () => {
    const t = given(E, acquired("a", "exclusive", 1), queued("b", "shared"), queued("c", "shared"), queued("d", "exclusive"), queued("e", "shared"))
      .when(released("a", 1))
      .moves("free");
    expect(grants(t.effects)).toEqual(["b:shared", "c:shared"]);
  });
  it("the head waiter is granted with the next token and leaves the queue", () => {
    const t = given(E, acquired("claude", "exclusive", 1), queued("gemini", "shared"), released("claude", 1))
      .when(acquired("gemini", "shared", 2))
      .moves("shared");
    expect(t.ctx<LockContext>().waiters).toEqual([]);
  });
  it("refuses a release with a stale token or by a non-holder", () => {
    given(E, acquired("claude", "exclusive", 1)).when(released("claude", 2)).refused();
    given(E, acquired("claude", "exclusive", 1)).when(released("gemini", 1)).refused();
  });
  it("shared → shared when one of two holders releases, → free when the last does", () => {
    const g = given(E, acquired("a", "shared", 1), acquired("b", "shared", 2));
    g.when(released("a", 1)).moves("shared");
    given(E, acquired("a", "shared", 1)).when(released("a", 1)).moves("free");
  });
  it("renew extends the lease of the current token only", () => {
    const t = given(E, acquired("claude", "exclusive", 1, 1000))
      .when({ type: "lock.renewed", payload: { at: 900, path, agent: "claude", token: 1, expiresAt: 2000 } })
      .moves("exclusive");
    expect(t.ctx<LockContext>().holders[0]!.expiresAt).toBe(2000);
    given(E, acquired("claude", "exclusive", 1)).when({ type: "lock.renewed", payload: { at: 9, path, agent: "claude", token: 7, expiresAt: 2 } }).refused();
  });
  it("lease_expired drops the holder only once its deadline has passed", () => {
    given(E, acquired("claude", "exclusive", 1, 1000)).when(expired("claude", 1, 999)).refused();
    const t = given(E, acquired("claude", "exclusive", 1, 1000), queued("gemini", "shared")).when(expired("claude", 1, 1000)).moves("free");
    expect(grants(t.effects)).toEqual(["gemini:shared"]);
  });
  it("a cancelled wait leaves the queue and may unblock the requests behind it", () => {
    const g = given(E, acquired("a", "shared", 1), queued("b", "exclusive"), queued("c", "shared"));
    const t = g.when({ type: "lock.wait_cancelled", payload: { at: 5, path, agent: "b", reason: "gave_up" } }).moves("shared");
    expect(grants(t.effects)).toEqual(["c:shared"]);
    g.when({ type: "lock.wait_cancelled", payload: { at: 5, path, agent: "z", reason: "gave_up" } }).refused();
  });
  it("holder_offline release behaves as a release", () => {
    given(E, acquired("a", "exclusive", 1))
      .when({ type: "lock.released", payload: { at: 3, path, agent: "a", token: 1, reason: "holder_offline" } })
      .moves("free");
  });
  it("refuses events for another path", () => {
    given(E).when({ type: "lock.acquired", payload: { at: 1, path: "other", agent: "a", mode: "shared", token: 1, expiresAt: 9 } }).refused();
  });
});
