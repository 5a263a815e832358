import { describe, expect, it } from "vitest";
import { nextInt, seededRandom, chance, type Envelope } from "@atelier/events";
import { replay, timersOf, snapshotsOf, type PromptQueueContext, type Workspace } from "@atelier/actors";
import { flush, harness, logOf, recordingRunner } from "../harness.ts";

const noPromptTwice = (ws: Workspace) => {
  for (const a of ws.agents.list()) {
    const q = ws.prompts.get(a.agentId);
    if (!q) continue;
    if (q.processing) expect(q.queued).not.toContain(q.processing);
    for (const id of q.queued) expect(q.prompts[id]!.status).toBe("queued");
    expect(Object.values(q.prompts).filter((p) => p.status === "processing").length).toBeLessThanOrEqual(1);
  }
};

describe("recovery", () => {
  it("close writes a snapshot; reopening = snapshot + tail and gives the same state", async () => {
    const h = harness();
    const ws = await h.open({ snapshotEvery: 5 });
    await ws.agents.register({ agentId: "claude", vendor: "claude", model: "opus" });
    for (let i = 0; i < 12; i++) await ws.locks.acquire(`f${i}.ts`, "claude", "exclusive");
    const before = ws.state();
    await ws.close();
    const again = await h.open({ snapshotEvery: 5 });
    expect(again.recovery.snapshotSeq).toBe(before.seq);
    expect(again.recovery.replayed).toBe(0);
    expect(again.state()).toEqual(before);
    await again.close();
  });

  it("a damaged snapshot is skipped: recovery falls back to the log", async () => {
    const h = harness();
    const ws = await h.open();
    await ws.agents.register({ agentId: "claude", vendor: "claude", model: "opus" });
    const before = ws.state();
    await ws.close();
    const snap = h.storage.list("/ws/snapshots").at(-1)!;
    h.storage.flipBit(`/ws/snapshots/${snap}`, 3);
    const again = await h.open();
    expect(again.recovery).toMatchObject({ snapshotSeq: 0, replayed: before.seq });
    expect(again.state()).toEqual(before);
    await again.close();
  });

  it("re-arms timers with their original deadlines after a crash (lease, idle)", async () => {
    const h = harness();
    const ws = await h.open({ leaseMs: 10_000, config: { idleTimeoutMs: 60_000, hibernateAfterMs: 600_000, lifetimeMs: 3_600_000, maxLifetimeMs: 7_200_000 } });
    const t0 = h.clock.now();
    const grant = await ws.locks.acquire("a.ts", "claude", "exclusive");
    expect(grant).toMatchObject({ granted: true, expiresAt: t0 + 10_000 });
    const timersBefore = ws.timers().map((t) => t.key).sort();
    h.clock.advance(3000);
    h.storage.crash(seededRandom(7));
    const again = await h.open({ leaseMs: 10_000 });
    expect(again.timers().map((t) => t.key).sort()).toEqual(timersBefore);
    h.clock.advanceTo(t0 + 9_999);
    await flush();
    expect(again.locks.query("a.ts").locked).toBe(true);
    h.clock.advanceTo(t0 + 10_000);
    await flush();
    expect(again.locks.query("a.ts").locked).toBe(false);
    const expiry = logOf(again).find((e) => e.type === "lock.lease_expired")!;
    expect(Date.parse(expiry.ts)).toBe(t0 + 10_000);
    await again.close();
  });

  it("random crashes (power loss, torn tails, EIO): no acknowledged transition is lost, state = replay, no prompt both processing and queued", async () => {
    for (let seed = 1; seed <= 25; seed++) {
      const h = harness(seed);
      const rnd = seededRandom(seed * 7919);
      const acked = new Map<number, string>();
      const ack = (p: Promise<unknown>) =>
        p.then(
          (v) => {
            void v;
          },
          () => undefined,
        );
      let ws = await h.open({ snapshotEvery: 9, heartbeatTtlMs: 5000, leaseMs: 4000 });
      ws.log.onCommit((envs) => {
        for (const e of envs) acked.set(e.seq, e.id);
      });
      const agents = ["claude", "gemini"];
      for (const a of agents) await ws.agents.register({ agentId: a, vendor: "custom", model: "m" });
      for (let round = 0; round < 3; round++) {
        const conns = await Promise.all(agents.map((a) => ws.runners.connect(a, recordingRunner().sink).catch(() => undefined)));
        const pending: Promise<unknown>[] = [];
        for (let i = 0; i < 40; i++) {
          const a = agents[nextInt(rnd, 0, 1)]!;
          const r = nextInt(rnd, 0, 5);
          if (r === 0) pending.push(ack(ws.prompts.enqueue(a, { text: "t", author: "ana" })));
          if (r === 1) pending.push(ack(ws.locks.acquire(`f${nextInt(rnd, 0, 2)}.ts`, a, chance(rnd, 0.5) ? "shared" : "exclusive")));
          if (r === 2) pending.push(ack(ws.locks.release(`f${nextInt(rnd, 0, 2)}.ts`, a)));
          if (r === 3) {
            const q = ws.prompts.get(a) as PromptQueueContext | undefined;
            const c = conns[agents.indexOf(a)];
            if (q?.processing && c) pending.push(ack(c.complete(q.processing, { result: "ok" })));
          }
          if (r === 4) h.clock.advance(nextInt(rnd, 100, 3000));
          if (r === 5 && chance(rnd, 0.1)) h.storage.injectFault({ op: "sync", code: "EIO", afterOps: nextInt(rnd, 0, 3), persistent: false });
          if (chance(rnd, 0.5)) await flush(1);
        }
        // Crash with appends possibly in flight: only what was acknowledged must survive.
        h.storage.crash(rnd);
        await Promise.allSettled(pending);
        h.storage.clearFaults();
        ws = await h.open({ snapshotEvery: 9, heartbeatTtlMs: 5000, leaseMs: 4000 });
        const log = logOf(ws);
        const bySeq = new Map<number, Envelope>(log.map((e) => [e.seq, e]));
        for (const [seq, id] of acked) {
          if (seq > ws.log.head()) throw new Error(`seed ${seed}: acknowledged seq ${seq} lost (head ${ws.log.head()})`);
          expect(bySeq.get(seq)?.id, `seed ${seed} seq ${seq}`).toBe(id);
        }
        expect(replay(log)).toEqual(ws.state());
        noPromptTwice(ws);
        // The armed timers are exactly those the recovered state asks for.
        const wanted = [...snapshotsOf(ws.state())].flatMap(([e, s]) => timersOf(e, s).map((t) => t.key)).sort();
        expect(ws.timers().map((t) => t.key).sort()).toEqual(wanted);
        ws.log.onCommit((envs) => {
          for (const e of envs) acked.set(e.seq, e.id);
        });
      }
      await ws.close();
    }
  });
});
