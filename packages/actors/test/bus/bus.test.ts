import { describe, expect, it } from "vitest";
import { Bus, type BusMessage } from "@atelier/actors";
import { flush, harness, typesOf } from "../harness.ts";

describe("bus", () => {
  it("durable channels carry 001's TTLs", () => {
    expect([Bus.ttlOf("state"), Bus.ttlOf("file_conflict"), Bus.ttlOf("task_broadcast"), Bus.ttlOf("custom")]).toEqual([60_000, 300_000, 600_000, 300_000]);
  });

  it("delivers a durable message only after it is in the log, in seq order", async () => {
    const ws = await harness().open();
    const got: BusMessage[] = [];
    let headAtDelivery = 0;
    ws.bus.subscribe("state", (m) => {
      headAtDelivery = ws.log.head();
      got.push(m);
    });
    const p1 = ws.bus.publish("state", { status: "working" }, { sender: "claude" });
    const p2 = ws.bus.publish("state", { status: "done" }, { sender: "claude" });
    expect(got).toEqual([]);
    const [m1, m2] = await Promise.all([p1, p2]);
    expect(got.map((m) => m.body)).toEqual([{ status: "working" }, { status: "done" }]);
    expect(headAtDelivery).toBeGreaterThanOrEqual(m2.seq);
    expect(m1.seq).toBeLessThan(m2.seq);
    expect(m1.ttlMs).toBe(60_000);
    await ws.close();
  });

  it("a subscriber resumes from a seq, and expired messages are not delivered", async () => {
    const h = harness();
    const ws = await h.open();
    const a = await ws.bus.publish("file_conflict", { file: "a.ts" }, { sender: "claude" });
    await ws.bus.publish("file_conflict", { file: "b.ts" }, { sender: "claude", ttlMs: 1000 });
    await ws.bus.publish("other", { x: 1 }, { sender: "claude" });
    const resumed: unknown[] = [];
    ws.bus.subscribe("file_conflict", (m) => resumed.push(m.body), { from: a.seq + 1 });
    expect(resumed).toEqual([{ file: "b.ts" }]);
    h.clock.advance(1000);
    const late: unknown[] = [];
    ws.bus.subscribe("file_conflict", (m) => late.push(m.body), { from: 1 });
    expect(late).toEqual([{ file: "a.ts" }]);
    await ws.close();
  });

  it("ephemeral streams fan out in memory and are never written; heartbeats are ephemeral", async () => {
    const ws = await harness().open();
    await ws.agents.register({ agentId: "claude", vendor: "claude", model: "opus" });
    const conn = await ws.runners.connect("claude", { dispatch() {}, abort() {}, close() {} });
    const head = ws.log.head();
    const chunks: unknown[] = [];
    const beats: unknown[] = [];
    ws.bus.on("tokens", (c) => chunks.push(c));
    ws.bus.on("heartbeat", (b) => beats.push(b));
    ws.bus.emit("tokens", "Hel");
    ws.bus.emit("tokens", "lo");
    conn.heartbeat();
    await flush();
    expect(chunks).toEqual(["Hel", "lo"]);
    expect(beats).toHaveLength(1);
    expect(ws.log.head()).toBe(head);
    expect(typesOf(ws)).not.toContain("bus.published");
    await ws.close();
  });
});
