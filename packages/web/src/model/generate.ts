/**
 * A deterministic synthetic timeline (seeded PRNG): agents take prompts, contend for file locks
 * (FIFO waits, shared and exclusive), edit, release and report tokens and cost. Every event is
 * checked against the real machines as it is generated, so the result replays cleanly. Used by
 * the viewer's "demo timeline", the browser tests and `npm run bench -- viewer`.
 */
import { grantableNow, nextGrants, step, type ActorSnapshot, type AtelierEvent, type LockContext } from "@atelier/actors/machines";
import type { Env } from "./timeline.ts";

export interface GenerateOptions {
  /** Stop once at least this many envelopes exist. */
  readonly events: number;
  readonly agents?: readonly { id: string; vendor: "claude" | "gemini" | "kimi" | "codex" | "custom"; model: string }[];
  readonly files?: readonly string[];
  readonly people?: readonly string[];
  readonly seed?: number;
  readonly startMs?: number;
  readonly ws?: string;
}

export const DEFAULT_AGENTS = [
  { id: "claude", vendor: "claude", model: "claude-opus-4" },
  { id: "gemini", vendor: "gemini", model: "gemini-2.5-pro" },
  { id: "kimi", vendor: "kimi", model: "kimi-k2" },
  { id: "codex", vendor: "codex", model: "gpt-5-codex" },
] as const;

export const DEFAULT_FILES = [
  "src/auth/session.ts",
  "src/auth/token.ts",
  "src/auth/index.ts",
  "src/api/routes.ts",
  "src/api/middleware.ts",
  "src/db/schema.ts",
  "src/db/migrate.ts",
  "test/auth.test.ts",
  "README.md",
  "package.json",
];

const PROMPTS = [
  "Refactor the auth module to use session tokens",
  "Add tests for token expiry",
  "Index the API routes and list the handlers",
  "Move the schema migrations into db/migrate.ts",
  "Review middleware error handling",
  "Update the README with the new auth flow",
];

/** mulberry32: tiny, fast, good enough for a workload. */
export const prng = (seed: number) => {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

type Phase = { kind: "idle" } | { kind: "working"; promptId: string; indexed: boolean } | { kind: "waiting"; promptId: string; path: string } | { kind: "editing"; promptId: string; path: string; token: number; edits: number };

export const generateTimeline = (options: GenerateOptions): Env[] => {
  const rnd = prng(options.seed ?? 1);
  const agents = options.agents ?? DEFAULT_AGENTS;
  const files = options.files ?? DEFAULT_FILES;
  const people = options.people ?? ["alice", "bob"];
  const ws = options.ws ?? "ws_demo";
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const actors = new Map<string, ActorSnapshot>();
  const out: Env[] = [];
  let now = options.startMs ?? Date.UTC(2026, 10, 23, 10, 0, 0);
  let promptCounter = 0;

  const emit = (entity: string, event: AtelierEvent, agent?: string): void => {
    const s = step(entity, actors.get(entity), event);
    if (!s.accepted) throw new Error(`generator bug: ${entity} in ${s.from} refuses ${event.type}`);
    actors.set(entity, s.after);
    const seq = out.length + 1;
    out.push({ seq, ts: new Date(now).toISOString(), ws, id: `ev_${seq.toString(36)}`, entity, type: event.type, ...(agent ? { agent } : {}), payload: event.payload, from: s.from, to: s.to, hash: (seq * 2654435761 >>> 0).toString(16).padStart(8, "0").repeat(8) } as Env);
  };
  const tick = (max = 1500) => (now += 20 + Math.floor(rnd() * max));
  const lockCtx = (path: string): LockContext => ((actors.get(`lock:${path}`)?.context as LockContext | undefined) ?? { path, lastToken: 0, holders: [], waiters: [] });

  emit("workspace", { type: "workspace.created", payload: { at: now, workspaceId: ws, name: "auth refactor", config: { idleTimeoutMs: 300_000, hibernateAfterMs: 1_800_000, lifetimeMs: 28_800_000, maxLifetimeMs: 86_400_000 } } });
  tick();
  emit("workspace", { type: "workspace.activated", payload: { at: now } });
  for (const a of agents) {
    tick(200);
    emit(`agent:${a.id}`, { type: "agent.registered", payload: { at: now, agentId: a.id, vendor: a.vendor, model: a.model, focusPrompt: `You are ${a.id}.` } }, a.id);
  }
  for (const a of agents) {
    tick(200);
    emit(`agent:${a.id}`, { type: "agent.connected", payload: { at: now, generation: 1 } }, a.id);
  }

  const phase = new Map<string, Phase>(agents.map((a) => [a.id, { kind: "idle" }]));
  const queue = new Map<string, string[]>(agents.map((a) => [a.id, []]));

  const enqueue = (agent: string) => {
    const promptId = `p${++promptCounter}`;
    emit(`prompts:${agent}`, { type: "prompt.enqueued", payload: { at: now, agent, promptId, clientRequestId: `c${promptCounter}`, text: pick(PROMPTS), priority: 0, author: pick(people) } });
    queue.get(agent)!.push(promptId);
  };

  /** Grants waiters that became grantable after a release. */
  const grant = (path: string) => {
    for (const w of nextGrants(lockCtx(path))) {
      const token = lockCtx(path).lastToken + 1;
      emit(`lock:${path}`, { type: "lock.acquired", payload: { at: now, path, agent: w.agent, mode: w.mode, token, expiresAt: now + w.leaseMs } }, w.agent);
      emit(`agent:${w.agent}`, { type: "agent.activity_changed", payload: { at: now, activity: "editing" } }, w.agent);
      const ph = phase.get(w.agent)!;
      if (ph.kind === "waiting") phase.set(w.agent, { kind: "editing", promptId: ph.promptId, path, token, edits: 0 });
    }
  };

  while (out.length < options.events) {
    tick();
    const a = pick(agents).id;
    const ph = phase.get(a)!;
    const q = queue.get(a)!;
    if (rnd() < 0.04) emit("workspace", { type: "workspace.touched", payload: { at: now, reason: "user" } });
    if (ph.kind === "idle") {
      if (q.length === 0 || rnd() < 0.15) enqueue(a);
      else {
        const promptId = q.shift()!;
        emit(`prompts:${a}`, { type: "prompt.started", payload: { at: now, agent: a, promptId, attempt: 1, generation: 1 } });
        emit(`agent:${a}`, { type: "agent.work_started", payload: { at: now, promptId } }, a);
        phase.set(a, { kind: "working", promptId, indexed: false });
      }
      if (rnd() < 0.1) enqueue(pick(agents).id);
    } else if (ph.kind === "working") {
      if (!ph.indexed && rnd() < 0.25) {
        emit(`agent:${a}`, { type: "agent.activity_changed", payload: { at: now, activity: "indexing" } }, a);
        phase.set(a, { ...ph, indexed: true });
        continue;
      }
      const path = pick(files);
      const mode = rnd() < 0.75 ? "exclusive" : "shared";
      const ctx = lockCtx(path);
      if (grantableNow(ctx, a, mode)) {
        const token = ctx.lastToken + 1;
        emit(`lock:${path}`, { type: "lock.acquired", payload: { at: now, path, agent: a, mode, token, expiresAt: now + 60_000 } }, a);
        emit(`agent:${a}`, { type: "agent.activity_changed", payload: { at: now, activity: "editing" } }, a);
        phase.set(a, { kind: "editing", promptId: ph.promptId, path, token, edits: 0 });
      } else {
        emit(`lock:${path}`, { type: "lock.queued", payload: { at: now, path, agent: a, mode, leaseMs: 60_000 } }, a);
        emit(`agent:${a}`, { type: "agent.activity_changed", payload: { at: now, activity: "waiting" } }, a);
        phase.set(a, { kind: "waiting", promptId: ph.promptId, path });
      }
    } else if (ph.kind === "editing") {
      if (ph.edits < 2 && rnd() < 0.5) {
        emit(`lock:${ph.path}`, { type: "lock.renewed", payload: { at: now, path: ph.path, agent: a, token: ph.token, expiresAt: now + 60_000 } }, a);
        phase.set(a, { ...ph, edits: ph.edits + 1 });
        continue;
      }
      emit(`lock:${ph.path}`, { type: "lock.released", payload: { at: now, path: ph.path, agent: a, token: ph.token, reason: "released" } }, a);
      grant(ph.path);
      tick(400);
      const tokensIn = 500 + Math.floor(rnd() * 4000);
      const tokensOut = 100 + Math.floor(rnd() * 1500);
      const cost = Math.round((tokensIn * 3 + tokensOut * 15) / 10) / 100_000;
      emit(`prompts:${a}`, { type: "prompt.completed", payload: { at: now, agent: a, promptId: ph.promptId, generation: 1, result: `Done: edited ${ph.path}.`, tokensIn, tokensOut, cost } });
      emit(`agent:${a}`, { type: "agent.work_finished", payload: { at: now, promptId: ph.promptId, outcome: "completed", tokensIn, tokensOut, cost } }, a);
      phase.set(a, { kind: "idle" });
    }
    // waiting: nothing to do until a release grants the lock
  }
  return out;
};

/** The envelopes as JSONL text, optionally with simulator-style marker lines every `markerEvery` events. */
export const toJsonl = (events: readonly Env[], markerEvery = 0): string => {
  const lines: string[] = [];
  if (markerEvery > 0) lines.push(JSON.stringify({ sim: "run", seed: 1, note: "synthetic timeline" }));
  events.forEach((e, i) => {
    lines.push(JSON.stringify(e));
    if (markerEvery > 0 && (i + 1) % markerEvery === 0) lines.push(JSON.stringify({ sim: "fault", kind: "runner_disconnect", afterSeq: e.seq }));
  });
  return lines.join("\n") + "\n";
};
