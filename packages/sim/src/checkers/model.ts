import { GENESIS_HASH, lineHashMatches, type Envelope } from "@atelier/events";
import { fail } from "./violation.ts";
import type { Probes } from "./probes.ts";

interface Holder {
  readonly agent: string;
  readonly mode: string;
  readonly token: number;
}

interface PromptRecord {
  readonly agent: string;
  readonly priority: number;
  readonly index: number;
  status: "queued" | "processing" | "completed" | "failed" | "cancelled";
  attempt: number;
  generation: number | null;
  requeued: boolean;
}

const TERMINAL = new Set(["completed", "failed", "cancelled"]);
type P = Record<string, unknown>;

/**
 * An independent reading of the log, fed every committed line in seq order. It does not reuse the
 * machines: it re-derives what they promise (I1, I9, I10, I12–I14) from the events alone, so a
 * machine bug cannot hide behind itself.
 */
export class LogModel {
  seq = 0;
  hash = GENESIS_HASH;
  readonly locks = new Map<string, { lastToken: number; holders: Holder[]; waiting: Set<string> }>();
  readonly prompts = new Map<string, PromptRecord>();
  readonly requests = new Map<string, string>();
  private readonly enqueued = new Map<string, number>();

  constructor(private readonly probes: Probes) {}

  /** I1: one stored line, checked against the chain so far, then folded. */
  feedLine(line: string): void {
    const env = JSON.parse(line) as Envelope;
    if (env.seq !== this.seq + 1) fail("I1", `seq ${env.seq} follows ${this.seq}`);
    if (!lineHashMatches(line, this.hash, env.hash)) fail("I1", `seq ${env.seq}: hash does not chain from its predecessor`);
    this.seq = env.seq;
    this.hash = env.hash;
    this.fold(env);
  }

  private fold(env: Envelope): void {
    const p = env.payload as P;
    if (env.type.startsWith("lock.")) this.lock(env.type, p, env.seq);
    else if (env.type.startsWith("prompt.")) this.prompt(env.type, p, env.seq);
    else if (env.type === "workspace.failed" && /^(hibernation|resume) failed/.test(p.message as string)) this.probes.reach("hibernation failed on object store");
  }

  private lock(type: string, p: P, seq: number): void {
    const path = p.path as string;
    const lock = this.locks.get(path) ?? { lastToken: 0, holders: [], waiting: new Set<string>() };
    this.locks.set(path, lock);
    const agent = p.agent as string;
    if (type === "lock.queued") lock.waiting.add(agent);
    if (type === "lock.wait_cancelled") lock.waiting.delete(agent);
    if (type === "lock.acquired") {
      if (lock.waiting.delete(agent)) this.probes.reach("lock waiter granted after release");
      const token = p.token as number;
      // I10: tokens strictly increase per path.
      if (token <= lock.lastToken) fail("I10", `seq ${seq}: ${path} granted token ${token} after ${lock.lastToken}`);
      lock.lastToken = token;
      lock.holders = [...lock.holders.filter((h) => h.agent !== agent), { agent, mode: p.mode as string, token }];
      // I9: at most one exclusive holder, never beside shared ones.
      const exclusive = lock.holders.filter((h) => h.mode === "exclusive").length;
      if (exclusive > 1 || (exclusive === 1 && lock.holders.length > 1)) {
        fail("I9", `seq ${seq}: ${path} held by ${lock.holders.map((h) => `${h.agent}(${h.mode})`).join(", ")}`);
      }
    } else if (type === "lock.released" || type === "lock.lease_expired") {
      if (type === "lock.lease_expired") this.probes.reach("lease expired");
      lock.holders = lock.holders.filter((h) => !(h.agent === agent && h.token === p.token));
    }
  }

  private prompt(type: string, p: P, seq: number): void {
    const id = p.promptId as string;
    if (type === "prompt.enqueued") {
      const rid = p.clientRequestId as string | null;
      // I12 "duplicated": one request, one prompt, however often the client retried.
      if (rid !== null && this.requests.has(rid)) fail("I12", `seq ${seq}: request ${rid} enqueued twice (${this.requests.get(rid)}, ${id})`);
      if (rid !== null) this.requests.set(rid, id);
      const agent = p.agent as string;
      const index = this.enqueued.get(agent) ?? 0;
      this.enqueued.set(agent, index + 1);
      this.prompts.set(id, { agent, priority: p.priority as number, index, status: "queued", attempt: 0, generation: null, requeued: false });
      return;
    }
    const rec = this.prompts.get(id) ?? fail("I12", `seq ${seq}: ${type} for unknown prompt ${id}`);
    if (TERMINAL.has(rec.status)) fail("I12", `seq ${seq}: ${type} after ${id} was already ${rec.status}`);
    switch (type) {
      case "prompt.started": {
        const attempt = p.attempt as number;
        if (rec.status !== "queued") fail("I13", `seq ${seq}: ${id} started while ${rec.status}`);
        if (attempt !== rec.attempt + 1) fail("I13", `seq ${seq}: ${id} attempt ${attempt} after ${rec.attempt}`);
        // I14: the head of the agent's queue (priority, then enqueue order) goes first.
        const head = this.headOf(rec.agent);
        if (head !== id) fail("I14", `seq ${seq}: ${id} dispatched before ${head}`);
        rec.status = "processing";
        rec.attempt = attempt;
        rec.generation = p.generation as number;
        return;
      }
      case "prompt.requeued":
        if (rec.status !== "processing") fail("I12", `seq ${seq}: ${id} requeued while ${rec.status}`);
        this.probes.reach("prompt requeued after disconnect");
        rec.status = "queued";
        rec.generation = null;
        rec.requeued = true;
        return;
      case "prompt.completed":
      case "prompt.failed":
        // I13: only the runner generation that started this attempt may finish it, once.
        if (rec.status !== "processing" || p.generation !== rec.generation) {
          fail("I13", `seq ${seq}: ${id} ${type} by generation ${String(p.generation)} while ${rec.status} under ${String(rec.generation)}`);
        }
        if (rec.requeued) this.probes.reach("prompt completed after a requeue");
        rec.status = type === "prompt.completed" ? "completed" : "failed";
        return;
      case "prompt.cancelled":
        if (rec.status === "processing") this.probes.reach("prompt cancelled while processing");
        rec.status = "cancelled";
        return;
    }
  }

  private headOf(agent: string): string | undefined {
    let best: [string, PromptRecord] | undefined;
    for (const entry of this.prompts) {
      const r = entry[1];
      if (r.agent !== agent || r.status !== "queued") continue;
      if (!best || r.priority > best[1].priority || (r.priority === best[1].priority && r.index < best[1].index)) best = entry;
    }
    return best?.[0];
  }

  /** The exclusive holder of `path` with `token`, per the log. */
  holds(path: string, agent: string, token: number): boolean {
    return this.locks.get(path)?.holders.some((h) => h.agent === agent && h.token === token && h.mode === "exclusive") ?? false;
  }

  openPrompts(): string[] {
    return [...this.prompts].filter(([, r]) => !TERMINAL.has(r.status)).map(([id]) => id);
  }

  heldLocks(): string[] {
    return [...this.locks].filter(([, l]) => l.holders.length > 0).map(([path]) => path);
  }
}
