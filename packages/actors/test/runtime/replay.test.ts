import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { replay, type RunnerConnection } from "@atelier/actors";
import { flush, harness, logOf, recordingRunner } from "../harness.ts";

const AGENTS = ["claude", "gemini", "kimi"];
const FILES = ["a.ts", "b.ts"];

const command = fc.oneof(
  fc.record({ k: fc.constant("enqueue" as const), a: fc.nat(2), priority: fc.integer({ min: 0, max: 2 }), interrupt: fc.boolean() }),
  fc.record({ k: fc.constant("complete" as const), a: fc.nat(2) }),
  fc.record({ k: fc.constant("connect" as const), a: fc.nat(2) }),
  fc.record({ k: fc.constant("close" as const), a: fc.nat(2) }),
  fc.record({ k: fc.constant("activity" as const), a: fc.nat(2) }),
  fc.record({ k: fc.constant("lock" as const), a: fc.nat(2), f: fc.nat(1), exclusive: fc.boolean() }),
  fc.record({ k: fc.constant("unlock" as const), a: fc.nat(2), f: fc.nat(1) }),
  fc.record({ k: fc.constant("advance" as const), ms: fc.integer({ min: 1, max: 20_000 }) }),
  fc.record({ k: fc.constant("task" as const), a: fc.nat(2) }),
  fc.record({ k: fc.constant("context" as const), a: fc.nat(2), v: fc.integer() }),
  fc.record({ k: fc.constant("hibernate" as const) }),
);

describe("replay equals live (I15)", () => {
  it("folding the log through the machines gives the live state, for random command sequences", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(command, { maxLength: 60 }), async (cmds) => {
        const h = harness();
        const ws = await h.open({ config: { idleTimeoutMs: 5000, hibernateAfterMs: 10_000, lifetimeMs: 40_000, maxLifetimeMs: 80_000 }, leaseMs: 7000 });
        const conns = new Map<string, RunnerConnection>();
        const dispatched = new Map<string, string[]>();
        for (const a of AGENTS) await ws.agents.register({ agentId: a, vendor: "custom", model: "m" });
        const ignore = () => undefined;
        for (const c of cmds) {
          const agent = "a" in c ? AGENTS[c.a]! : "";
          switch (c.k) {
            case "enqueue":
              await ws.prompts.enqueue(agent, { text: "t", author: "ana", priority: c.priority, interrupt: c.interrupt }).catch(ignore);
              break;
            case "complete": {
              const conn = conns.get(agent);
              const promptId = dispatched.get(agent)?.at(-1);
              if (conn && promptId) await conn.complete(promptId, { result: "r", tokensIn: 1 }).catch(ignore);
              break;
            }
            case "connect": {
              const r = recordingRunner();
              r.sink.dispatch = (p) => dispatched.set(agent, [...(dispatched.get(agent) ?? []), p.promptId]);
              const conn = await ws.runners.connect(agent, r.sink).catch(ignore);
              if (conn) conns.set(agent, conn);
              break;
            }
            case "close":
              await conns.get(agent)?.close().catch(ignore);
              break;
            case "activity":
              await conns.get(agent)?.activity("editing").catch(ignore);
              break;
            case "lock":
              // Not awaited: a waiting request resolves only when granted or given up (on the virtual clock).
              void ws.locks.acquire(FILES[c.f]!, agent, c.exclusive ? "exclusive" : "shared", { wait: true, timeoutMs: 3000 }).catch(ignore);
              break;
            case "unlock":
              await ws.locks.release(FILES[c.f]!, agent).catch(ignore);
              break;
            case "advance":
              h.clock.advance(c.ms);
              break;
            // Refused while the workspace is hibernated, as every command but a wake.
            case "task": {
              await ws.coordinator.taskQueue.push({ title: "t", by: agent }).catch(ignore);
              await ws.coordinator.taskQueue.claim(agent).catch(ignore);
              break;
            }
            case "context":
              await ws.coordinator.sharedContext.set("k", c.v, agent).catch(ignore);
              break;
            case "hibernate":
              await ws.lifecycle.hibernate("ana").catch(ignore);
              break;
          }
          await flush(1);
        }
        await flush(4);
        await ws.settled();
        expect(replay(logOf(ws))).toEqual(ws.state());
        await ws.close();
      }),
      { numRuns: 60 },
    );
  });
});
