import { describe, expect, it } from "vitest";
import { flush, harness, logOf, recordingRunner } from "../harness.ts";

const busyAgent = async (leaseMs = 10_000) => {
  const h = harness();
  const ws = await h.open({ leaseMs, heartbeatTtlMs: 1_000_000 });
  for (const agent of ["claude", "gemini"]) {
    await ws.agents.register({ agentId: agent, vendor: agent === "claude" ? "claude" : "gemini", model: "m" });
    await ws.runners.connect(agent, recordingRunner().sink);
  }
  await ws.prompts.enqueue("gemini", { text: "refactor", author: "ana" });
  return { h, ws };
};

describe("runtime: lock commands", () => {
  it("a busy agent that waits for a lock is busy.waiting; the wait ends in a grant with the next token", async () => {
    const { ws } = await busyAgent();
    await ws.locks.acquire("a.ts", "claude", "exclusive");
    const wait = ws.locks.acquire("a.ts", "gemini", "exclusive", { wait: true });
    await flush();
    expect(ws.agents.get("gemini")!.state).toBe("busy.waiting");
    expect(ws.locks.query("a.ts").waiters).toEqual([{ agent: "gemini", mode: "exclusive" }]);
    await ws.locks.release("a.ts", "claude");
    await expect(wait).resolves.toMatchObject({ granted: true, mode: "exclusive", token: 2 });
    expect(ws.locks.query("a.ts")).toMatchObject({ by: "gemini", waiters: [] });
    await ws.close();
  });

  it("a wait with a timeout gives up: it resolves false and leaves the queue, in the log", async () => {
    const { h, ws } = await busyAgent();
    await ws.locks.acquire("a.ts", "claude", "exclusive");
    const wait = ws.locks.acquire("a.ts", "gemini", "shared", { wait: true, timeoutMs: 2000 });
    await flush();
    h.clock.advance(1999);
    await flush();
    expect(ws.locks.query("a.ts").waiters).toHaveLength(1);
    h.clock.advance(1);
    await expect(wait).resolves.toEqual({ granted: false, reason: "gave_up" });
    expect(ws.locks.query("a.ts").waiters).toEqual([]);
    expect(logOf(ws).at(-1)).toMatchObject({ type: "lock.wait_cancelled", payload: { agent: "gemini", reason: "gave_up" } });
    await ws.close();
  });

  it("renew moves the lease deadline and its timer; the lease then expires at the new deadline", async () => {
    const { h, ws } = await busyAgent(10_000);
    const t0 = h.clock.now();
    await ws.locks.acquire("a.ts", "claude", "exclusive");
    h.clock.advance(8000);
    expect(await ws.locks.renew("a.ts", "claude", 10_000)).toBe(t0 + 18_000);
    h.clock.advanceTo(t0 + 17_999);
    await flush();
    expect(ws.locks.query("a.ts").locked).toBe(true);
    h.clock.advanceTo(t0 + 18_000);
    await flush();
    expect(ws.locks.query("a.ts").locked).toBe(false);
    expect(logOf(ws).filter((e) => e.type === "lock.lease_expired")).toHaveLength(1);
    await expect(ws.locks.renew("a.ts", "claude")).rejects.toMatchObject({ code: "not_holder" });
    await ws.close();
  });

  it("a holder going offline releases what it held and the head waiter is granted", async () => {
    const { ws } = await busyAgent();
    const claude = await ws.runners.connect("claude", recordingRunner().sink);
    await ws.locks.acquire("a.ts", "claude", "shared");
    await ws.locks.acquire("b.ts", "claude", "exclusive");
    const wait = ws.locks.acquire("b.ts", "gemini", "exclusive", { wait: true });
    await flush();
    await claude.close();
    await expect(wait).resolves.toMatchObject({ granted: true, token: 2 });
    expect(ws.locks.query("a.ts").locked).toBe(false);
    const released = logOf(ws).filter((e) => e.type === "lock.released");
    expect(released.map((e) => (e.payload as { reason: string }).reason)).toEqual(["holder_offline", "holder_offline"]);
    await ws.close();
  });
});
