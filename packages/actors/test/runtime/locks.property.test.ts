import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Envelope } from "@atelier/events";
import type { LockMode } from "@atelier/actors";
import { flush, harness, logOf, recordingRunner } from "../harness.ts";

type Op =
  | { kind: "acquire"; agent: number; file: number; mode: LockMode; wait: boolean }
  | { kind: "release"; agent: number; file: number }
  | { kind: "advance"; ms: number }
  | { kind: "offline"; agent: number }
  | { kind: "reconnect"; agent: number };

const op = (agents: number, files: number): fc.Arbitrary<Op> =>
  fc.oneof(
    { weight: 5, arbitrary: fc.record({ kind: fc.constant("acquire" as const), agent: fc.nat(agents - 1), file: fc.nat(files - 1), mode: fc.constantFrom<LockMode>("shared", "exclusive"), wait: fc.boolean() }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant("release" as const), agent: fc.nat(agents - 1), file: fc.nat(files - 1) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant("advance" as const), ms: fc.integer({ min: 100, max: 6000 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant("offline" as const), agent: fc.nat(agents - 1) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant("reconnect" as const), agent: fc.nat(agents - 1) }) },
  );

/** I9 and I10 judged from the log alone: mutual exclusion and strictly increasing tokens per path. */
const checkLog = (log: readonly Envelope[]) => {
  const holders = new Map<string, Map<string, LockMode>>();
  const tokens = new Map<string, number>();
  for (const e of log) {
    if (!e.type.startsWith("lock.")) continue;
    const p = e.payload as { path: string; agent: string; mode: LockMode; token: number };
    const h = holders.get(p.path) ?? new Map<string, LockMode>();
    holders.set(p.path, h);
    if (e.type === "lock.acquired") {
      expect(p.token, `token of ${p.path} at seq ${e.seq}`).toBeGreaterThan(tokens.get(p.path) ?? 0);
      tokens.set(p.path, p.token);
      h.set(p.agent, p.mode);
    }
    if (e.type === "lock.released" || e.type === "lock.lease_expired") h.delete(p.agent);
    const modes = [...h.values()];
    const exclusive = modes.filter((m) => m === "exclusive").length;
    expect(exclusive, `exclusive holders of ${p.path} at seq ${e.seq}`).toBeLessThanOrEqual(1);
    if (exclusive === 1) expect(modes, `shared next to exclusive at seq ${e.seq}`).toHaveLength(1);
  }
};

describe("locks under random interleavings (property)", () => {
  it("never two exclusive holders, never shared with exclusive, tokens strictly increase, every waiter is granted once holders leave", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 2, max: 6 }).chain((agents) =>
          fc.integer({ min: 1, max: 4 }).chain((files) => fc.tuple(fc.constant(agents), fc.constant(files), fc.array(op(agents, files), { maxLength: 40 }))),
        ),
        async ([agents, files, ops]) => {
          const h = harness();
          const ws = await h.open({ leaseMs: 5000, heartbeatTtlMs: 1_000_000 });
          const names = Array.from({ length: agents }, (_, i) => `agent${i}`);
          const paths = Array.from({ length: files }, (_, i) => `src/f${i}.ts`);
          for (const a of names) {
            await ws.agents.register({ agentId: a, vendor: "custom", model: "m" });
            await ws.runners.connect(a, recordingRunner().sink);
          }
          const waits: Promise<unknown>[] = [];
          for (const o of ops) {
            if (o.kind === "acquire") {
              const p = ws.locks.acquire(paths[o.file]!, names[o.agent]!, o.mode, { wait: o.wait }).catch(() => undefined);
              if (o.wait) waits.push(p);
              else await p;
            } else if (o.kind === "release") await ws.locks.release(paths[o.file]!, names[o.agent]!).catch(() => undefined);
            else if (o.kind === "advance") h.clock.advance(o.ms);
            else if (o.kind === "offline") {
              const agent = ws.agents.get(names[o.agent]!)!;
              if (agent.connected) await ws.runners.connect(names[o.agent]!, recordingRunner().sink).then((c) => c.close());
            } else await ws.runners.connect(names[o.agent]!, recordingRunner().sink).catch(() => undefined);
            await flush(1);
          }
          // Liveness: let every holder go (or its lease run out) until nobody waits.
          for (let round = 0; round < 50; round++) {
            const waiting = paths.some((p) => ws.locks.query(p).waiters.length > 0);
            if (!waiting) break;
            for (const p of paths) for (const holder of ws.locks.query(p).holders) await ws.locks.release(p, holder.agent).catch(() => undefined);
            await flush(1);
          }
          await Promise.all(waits);
          for (const p of paths) expect(ws.locks.query(p).waiters).toEqual([]);
          const log = logOf(ws);
          checkLog(log);
          // Each wait ended in a grant, or was withdrawn because its agent went offline.
          const open = new Set<string>();
          for (const e of log) {
            const p = e.payload as { path: string; agent: string; reason?: string };
            const k = `${p.path}|${p.agent}`;
            if (e.type === "lock.queued") open.add(k);
            if (e.type === "lock.acquired") open.delete(k);
            if (e.type === "lock.wait_cancelled") {
              expect(p.reason).toBe("holder_offline");
              open.delete(k);
            }
          }
          expect([...open]).toEqual([]);
          await ws.close();
        },
      ),
      { numRuns: 150 },
    );
  });
});
