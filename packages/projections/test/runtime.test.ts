import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { chance, nextInt, pick, seededRandom, VirtualClock } from "@atelier/events";
import { CommandRejected, openWorkspace, type RunnerConnection } from "@atelier/actors";
import { canonicalDump, openDb, openProjection, type Projection, rebuildProjection } from "../src/index.ts";
import { cleanup, tempDir } from "./support/fixtures.ts";

afterEach(cleanup);

const AGENTS = ["claude", "gemini", "kimi"] as const;
const PATHS = ["src/auth.ts", "src/db.ts", "src/routes/a.ts", "docs/readme.md"];
const settle = () => new Promise((r) => setImmediate(r));

describe("a workspace driven through the actors runtime", () => {
  for (const seed of [1, 2]) {
    it(`random commands, timers and projection restarts (seed ${seed}) dump equal to a rebuild`, async () => {
      const dir = tempDir("runtime");
      const clock = new VirtualClock(Date.UTC(2026, 10, 23, 10));
      const random = seededRandom(seed);
      const ws = await openWorkspace(dir, { workspace: "ws_rt", clock, random: seededRandom(seed + 100), fsync: "none", leaseMs: 20_000 });
      let projection: Projection | undefined = await openProjection(dir, ws.log);
      const runners = new Map<string, { conn: RunnerConnection; dispatched: string[] }>();
      for (const agentId of AGENTS) await ws.agents.register({ agentId, vendor: agentId === "kimi" ? "kimi" : agentId, model: "m1" });

      for (let i = 0; i < 1500; i++) {
        const agent = pick(random, AGENTS);
        const runner = runners.get(agent);
        const roll = nextInt(random, 0, 99);
        try {
          if (roll < 8) {
            const dispatched: string[] = [];
            const conn = await ws.runners.connect(agent, { dispatch: (p) => dispatched.push(p.promptId), abort: () => {}, close: () => {} });
            runners.set(agent, { conn, dispatched });
          } else if (roll < 22) {
            await ws.prompts.enqueue(agent, { text: `task ${i}`, author: "ann", priority: nextInt(random, 0, 2), interrupt: chance(random, 0.05) });
          } else if (roll < 36 && runner && runner.dispatched.length > 0) {
            const promptId = runner.dispatched.shift()!;
            if (chance(random, 0.8)) await runner.conn.complete(promptId, { result: `done ${i}`, tokensIn: nextInt(random, 10, 900), tokensOut: 40, cost: 0.002 });
            else await runner.conn.fail(promptId, "tool error");
          } else if (roll < 40 && runner) {
            await runner.conn.activity(pick(random, ["editing", "indexing", "waiting"] as const));
          } else if (roll < 56) {
            const mode = chance(random, 0.6) ? "exclusive" : "shared";
            void ws.locks.acquire(pick(random, PATHS), agent, mode, { wait: true, timeoutMs: nextInt(random, 1000, 30_000) }).catch(() => {});
          } else if (roll < 63) {
            await ws.locks.release(pick(random, PATHS), agent);
          } else if (roll < 66) {
            await ws.locks.renew(pick(random, PATHS), agent);
          } else if (roll < 70) {
            await ws.tasks.push({ title: `t${i}`, by: "ann", priority: nextInt(random, 0, 2) });
          } else if (roll < 74) {
            const task = await ws.tasks.claim(agent);
            if (task && chance(random, 0.6)) await ws.tasks.complete(task.taskId, agent, { ok: true });
            else if (task && chance(random, 0.5)) await ws.tasks.fail(task.taskId, agent, "tests failed");
            else if (task) await ws.tasks.release(task.taskId, agent);
          } else if (roll < 78) {
            if (chance(random, 0.8)) await ws.context.set(`k${nextInt(random, 0, 5)}`, { i }, agent);
            else await ws.context.delete(`k${nextInt(random, 0, 5)}`, agent);
          } else if (roll < 82) {
            await ws.bus.publish(pick(random, ["state", "file_conflict"]), { i }, { sender: agent });
          } else if (roll < 84 && runner) {
            await runner.conn.close();
            runners.delete(agent);
          } else if (roll < 85) {
            const lifecycle = nextInt(random, 0, 5);
            if (lifecycle === 0) await ws.lifecycle.hibernate("owner");
            else if (lifecycle === 1) await ws.lifecycle.resume();
            else if (lifecycle === 2) await ws.lifecycle.renew();
            else if (lifecycle === 3) await ws.lifecycle.fail("disk full");
            else if (lifecycle === 4) await ws.lifecycle.restart("owner");
            else clock.advance(310_000); // quiet: idle, then hibernation timers
          } else if (roll < 87) {
            if (chance(random, 0.5)) await ws.agents.configure(agent, { focusPrompt: `focus ${i}` });
            else if (chance(random, 0.5)) await ws.agents.fail(agent, "crashed");
            else await ws.agents.restart(agent);
          } else {
            clock.advance(nextInt(random, 100, 40_000));
          }
        } catch (error) {
          if (!(error instanceof CommandRejected)) throw error;
        }
        await settle();
        if (projection && chance(random, 0.03)) {
          await projection.close();
          projection = undefined;
        } else if (!projection && chance(random, 0.3)) projection = await openProjection(dir, ws.log);
      }
      // Quiescence: effects (resume, teardown) append after the command that caused them.
      const quiesce = async () => {
        for (let head = -1; head !== ws.log.head(); ) {
          head = ws.log.head();
          await ws.settled();
          await new Promise((r) => setTimeout(r, 20));
        }
      };
      const attempt = (command: Promise<unknown>) => command.catch((error: unknown) => {
        if (!(error instanceof CommandRejected)) throw error;
      });
      await attempt(ws.lifecycle.restart("owner"));
      await attempt(ws.lifecycle.resume());
      await quiesce();
      await attempt(ws.lifecycle.terminate("owner"));
      await quiesce();
      projection ??= await openProjection(dir, ws.log);
      expect(projection.seq).toBe(ws.log.head());
      const seq = projection.seq;
      const incremental = canonicalDump(projection.db);
      await projection.close();
      // Compared at the dumped seq, whatever a late effect may have appended since.
      const rebuilt = join(dir, "rebuilt.db");
      rebuildProjection(rebuilt, ws.log, { to: seq });
      const db = openDb(rebuilt, "readonly");
      const expected = canonicalDump(db);
      if (incremental !== expected) {
        const a = incremental.split("\n");
        const b = expected.split("\n");
        const first = a.findIndex((line, k) => line !== b[k]);
        throw new Error(`dumps differ at line ${first}:\n  incremental ${a[first]}\n  rebuilt     ${b[first]}\n  table ${a.slice(0, first).reverse().find((l) => l.startsWith("--"))}`);
      }
      db.close();

      const types = new Set([...ws.log.read({})].map((e) => e.type));
      expect(ws.log.head()).toBeGreaterThan(1500);
      expect(types.size, [...types].sort().join(" ")).toBeGreaterThan(38);
      await ws.close();
    });
  }
});
