/**
 * Indexes built in one pass as events arrive, for what the actors' state does not keep: the chat
 * history (prompts and their final answers), swim-lane membership, and the plot series (lock
 * waits, prompt queue waits, tokens and cost over time).
 */
import type { AgentContext, LockContext, PromptEntry, PromptQueueContext, WorldState } from "@atelier/actors/machines";
import { indexAtOrBefore, timeOf, type Env } from "./timeline.ts";

export interface ChatPrompt {
  readonly seq: number;
  readonly at: number;
  readonly promptId: string;
  readonly agent: string;
  readonly text: string;
  readonly author: string;
  readonly priority: number;
}

export interface ChatOutcome {
  readonly seq: number;
  readonly at: number;
  readonly status: "completed" | "failed" | "cancelled";
  readonly text: string;
  readonly tokensIn: number;
  readonly tokensOut: number;
  readonly cost: number;
}

export interface LockWait {
  readonly seq: number;
  readonly at: number;
  readonly agent: string;
  readonly path: string;
  readonly waitMs: number;
  /** Who held the lock when the wait began (blocked-by). */
  readonly blockers: readonly string[];
}
export interface QueueWait {
  readonly seq: number;
  readonly at: number;
  readonly agent: string;
  readonly waitMs: number;
}
export interface UsagePoint {
  readonly seq: number;
  readonly at: number;
  readonly tokens: number;
  readonly cost: number;
}

export const WORKSPACE_LANE = "workspace";
export const PEOPLE_LANE = "people";

const str = (v: unknown): string | undefined => (typeof v === "string" && v.length > 0 ? v : undefined);

/** The lane of an event: its agent, else the workspace, else people (person-caused events). */
export const laneOf = (e: Env): string => {
  const p = (e.payload ?? {}) as Record<string, unknown>;
  if (e.type === "prompt.enqueued" || e.type === "workspace.hibernate_requested" || e.type === "workspace.terminate_requested" || e.type === "workspace.resume_requested" || e.type === "workspace.restarted") return PEOPLE_LANE;
  const colon = e.entity.indexOf(":");
  const kind = colon < 0 ? e.entity : e.entity.slice(0, colon);
  if (kind === "agent" || kind === "prompts") return e.entity.slice(colon + 1);
  const a = str(e.agent) ?? str(p.agent) ?? str(p.sender) ?? str(p.updatedBy);
  if (a && a !== "system") return a;
  return WORKSPACE_LANE;
};

/** The agent (if any) an event is about, for the agent filter. */
export const agentOf = (e: Env): string | undefined => {
  const lane = laneOf(e);
  if (lane !== WORKSPACE_LANE && lane !== PEOPLE_LANE) return lane;
  return str((e.payload as Record<string, unknown> | null)?.agent);
};

export class Derived {
  readonly prompts: ChatPrompt[] = [];
  readonly outcomes = new Map<string, ChatOutcome>();
  readonly lockWaits: LockWait[] = [];
  readonly queueWaits: QueueWait[] = [];
  readonly usage = new Map<string, UsagePoint[]>();
  /** Lane id per event index. */
  readonly lanes: string[] = [];
  readonly laneIds = new Set<string>();
  readonly types = new Set<string>();
  /** Every file path seen in a lock event, with the seq it first appeared at. */
  readonly files = new Map<string, number>();
  readonly agents = new Set<string>();
  /** Paths each agent currently holds, for "who blocked whom". */
  private holding = new Map<string, Set<string>>();
  private waitingSince = new Map<string, { at: number; blockers: string[] }>();
  private enqueuedAt = new Map<string, number>();
  /** Each agent's totals before the first event indexed (a history that starts at a snapshot). */
  private usageBefore = new Map<string, { tokens: number; cost: number }>();

  /**
   * `base`: the world the indexed events follow, when they do not start at the log's beginning.
   * Agents, who holds which file, the usage totals and the prompts still open come from it, so
   * that lanes, who blocked whom, the cumulative plots and the chat are right from the first
   * event on.
   */
  constructor(base?: WorldState) {
    const open: Array<PromptEntry & { agent: string }> = [];
    for (const [entity, actor] of Object.entries(base?.actors ?? {})) {
      const key = entity.slice(entity.indexOf(":") + 1);
      if (entity.startsWith("agent:") && actor.state !== "unregistered") {
        const c = actor.context as AgentContext;
        this.agents.add(key);
        this.laneIds.add(key);
        this.usageBefore.set(key, { tokens: c.tokensIn + c.tokensOut, cost: c.cost });
      } else if (entity.startsWith("lock:")) {
        for (const h of (actor.context as LockContext).holders) {
          const held = this.holding.get(h.agent) ?? new Set<string>();
          held.add(key);
          this.holding.set(h.agent, held);
        }
      } else if (entity.startsWith("prompts:")) {
        for (const p of Object.values((actor.context as PromptQueueContext).prompts)) open.push({ ...p, agent: key });
      }
    }
    // Open prompts enter the chat at the base, in the order they were enqueued.
    for (const p of open.sort((a, b) => a.enqueuedAt - b.enqueuedAt || a.index - b.index)) {
      this.prompts.push({ seq: base!.seq, at: p.enqueuedAt, promptId: p.promptId, agent: p.agent, text: p.text, author: p.author, priority: p.priority });
      if (p.status === "queued") this.enqueuedAt.set(p.promptId, p.enqueuedAt);
    }
  }

  add(e: Env, index: number): void {
    const lane = laneOf(e);
    this.lanes[index] = lane;
    this.laneIds.add(lane);
    this.types.add(e.type);
    const p = (e.payload ?? {}) as Record<string, unknown>;
    const at = timeOf(e);
    switch (e.type) {
      case "agent.registered":
        if (typeof p.agentId === "string") this.agents.add(p.agentId);
        break;
      case "prompt.enqueued": {
        const promptId = String(p.promptId);
        this.prompts.push({ seq: e.seq, at, promptId, agent: String(p.agent), text: String(p.text ?? ""), author: String(p.author ?? "user"), priority: Number(p.priority ?? 0) });
        this.enqueuedAt.set(promptId, at);
        break;
      }
      case "prompt.started": {
        const q = this.enqueuedAt.get(String(p.promptId));
        if (q !== undefined) {
          this.queueWaits.push({ seq: e.seq, at, agent: String(p.agent), waitMs: Math.max(0, at - q) });
          this.enqueuedAt.delete(String(p.promptId));
        }
        break;
      }
      case "prompt.requeued":
        this.enqueuedAt.set(String(p.promptId), at);
        break;
      case "prompt.completed":
        this.outcomes.set(String(p.promptId), { seq: e.seq, at, status: "completed", text: String(p.result ?? ""), tokensIn: Number(p.tokensIn ?? 0), tokensOut: Number(p.tokensOut ?? 0), cost: Number(p.cost ?? 0) });
        break;
      case "prompt.failed":
        this.outcomes.set(String(p.promptId), { seq: e.seq, at, status: "failed", text: String(p.error ?? ""), tokensIn: 0, tokensOut: 0, cost: 0 });
        break;
      case "prompt.cancelled":
        this.outcomes.set(String(p.promptId), { seq: e.seq, at, status: "cancelled", text: String(p.reason ?? ""), tokensIn: 0, tokensOut: 0, cost: 0 });
        this.enqueuedAt.delete(String(p.promptId));
        break;
      case "agent.work_finished": {
        const agent = e.entity.slice(e.entity.indexOf(":") + 1);
        const series = this.usage.get(agent) ?? [];
        const last = series.at(-1) ?? this.usageBefore.get(agent);
        series.push({ seq: e.seq, at, tokens: (last?.tokens ?? 0) + Number(p.tokensIn ?? 0) + Number(p.tokensOut ?? 0), cost: (last?.cost ?? 0) + Number(p.cost ?? 0) });
        this.usage.set(agent, series);
        break;
      }
      case "lock.queued": {
        const path = String(p.path);
        if (!this.files.has(path)) this.files.set(path, e.seq);
        const blockers = [...this.holding].filter(([, paths]) => paths.has(path)).map(([a]) => a);
        this.waitingSince.set(`${path}\u0000${String(p.agent)}`, { at, blockers });
        break;
      }
      case "lock.acquired": {
        const path = String(p.path);
        const agent = String(p.agent);
        if (!this.files.has(path)) this.files.set(path, e.seq);
        const key = `${path}\u0000${agent}`;
        const w = this.waitingSince.get(key);
        if (w) {
          this.lockWaits.push({ seq: e.seq, at, agent, path, waitMs: Math.max(0, at - w.at), blockers: w.blockers });
          this.waitingSince.delete(key);
        }
        const set = this.holding.get(agent) ?? new Set<string>();
        set.add(path);
        this.holding.set(agent, set);
        break;
      }
      case "lock.released":
      case "lock.lease_expired":
        this.holding.get(String(p.agent))?.delete(String(p.path));
        break;
      case "lock.wait_cancelled":
        this.waitingSince.delete(`${String(p.path)}\u0000${String(p.agent)}`);
        break;
      default:
        if (e.entity.startsWith("lock:") && !this.files.has(e.entity.slice(5))) this.files.set(e.entity.slice(5), e.seq);
    }
  }

  /** How many prompts were enqueued at or before `seq`. */
  promptCountUpTo(seq: number): number {
    return indexAtOrBefore(this.prompts, seq) + 1;
  }

  /** Prompts enqueued at or before `seq`. */
  promptsUpTo(seq: number): ChatPrompt[] {
    return this.prompts.slice(0, indexAtOrBefore(this.prompts, seq) + 1);
  }

  /** A prompt's final outcome if it happened at or before `seq`. */
  outcomeAt(promptId: string, seq: number): ChatOutcome | undefined {
    const o = this.outcomes.get(promptId);
    return o && o.seq <= seq ? o : undefined;
  }
}
