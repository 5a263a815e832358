import { describe, expect, it } from "vitest";
import { chance, nextInt, seededRandom } from "@atelier/events";
import type { RunnerConnection, RunnerSink } from "@atelier/actors";
import { flush, harness, logOf } from "../harness.ts";

/**
 * 1,000 prompts over 4 agents whose runners drop at random mid-prompt and reconnect later, while
 * the dropped runners still try to deliver results late (F14). Every prompt must complete exactly
 * once: none lost, none processed twice (I12, I13).
 */
describe("runner disconnect storm", () => {
  it("1,000 prompts, 4 agents, random disconnects: each completes exactly once", async () => {
    const h = harness(42);
    const rnd = seededRandom(4242);
    const ws = await h.open({ maxQueueDepth: 1000, heartbeatTtlMs: 1_000_000 });
    const agents = ["claude", "gemini", "kimi", "codex"];
    const conns = new Map<string, RunnerConnection | undefined>();
    /** In-flight work per connection: finish time and prompt. */
    const work = new Map<RunnerConnection, { promptId: string; doneAt: number }>();
    const stale: { conn: RunnerConnection; promptId: string }[] = [];
    let staleRefused = 0;

    const connect = async (agent: string) => {
      let conn: RunnerConnection | undefined;
      const queue: { promptId: string }[] = [];
      const sink: RunnerSink = {
        dispatch: (p) => (conn ? work.set(conn, { promptId: p.promptId, doneAt: h.clock.now() + nextInt(rnd, 1, 50) }) : queue.push(p)),
        abort: () => undefined,
        close: () => undefined,
      };
      conn = await ws.runners.connect(agent, sink);
      for (const p of queue) work.set(conn, { promptId: p.promptId, doneAt: h.clock.now() + nextInt(rnd, 1, 50) });
      conns.set(agent, conn);
    };

    for (const a of agents) await ws.agents.register({ agentId: a, vendor: "custom", model: "m" });
    for (const a of agents) await connect(a);
    const enqueued = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const { promptId } = await ws.prompts.enqueue(agents[i % 4]!, { text: `p${i}`, author: "ana", clientRequestId: `req-${i}` });
      enqueued.add(promptId);
    }

    for (let tick = 0; tick < 100_000; tick++) {
      h.clock.advance(5);
      for (const a of agents) {
        const conn = conns.get(a);
        if (!conn) {
          if (chance(rnd, 0.2)) await connect(a);
          continue;
        }
        if (chance(rnd, 0.01)) {
          // Drop mid-prompt; this runner will still try to deliver its result later.
          const w = work.get(conn);
          if (w) stale.push({ conn, promptId: w.promptId });
          work.delete(conn);
          conns.set(a, undefined);
          await conn.close();
          continue;
        }
        const w = work.get(conn);
        if (w && w.doneAt <= h.clock.now()) {
          work.delete(conn);
          await conn.complete(w.promptId, { result: "ok", tokensOut: 1 });
        }
      }
      while (stale.length > 0 && chance(rnd, 0.3)) {
        const s = stale.shift()!;
        await s.conn.complete(s.promptId, { result: "late" }).catch(() => staleRefused++);
      }
      if (tick % 50 === 0) await flush(1);
      const done = agents.every((a) => {
        const q = ws.prompts.get(a)!;
        return q.queued.length === 0 && q.processing === null;
      });
      if (done) break;
    }
    for (const s of stale) await s.conn.complete(s.promptId, { result: "late" }).catch(() => staleRefused++);

    const log = logOf(ws);
    const completed = new Map<string, number>();
    for (const e of log) {
      if (e.type !== "prompt.completed") continue;
      const id = (e.payload as { promptId: string }).promptId;
      completed.set(id, (completed.get(id) ?? 0) + 1);
    }
    expect(completed.size).toBe(1000);
    expect([...completed.keys()].every((id) => enqueued.has(id))).toBe(true);
    expect([...completed.values()].every((n) => n === 1)).toBe(true);
    const requeued = log.filter((e) => e.type === "prompt.requeued").length;
    expect(requeued).toBeGreaterThan(10);
    expect(staleRefused).toBe(requeued);
    expect(log.filter((e) => e.type === "prompt.failed" || e.type === "prompt.cancelled")).toEqual([]);
    await ws.close();
  });
});
