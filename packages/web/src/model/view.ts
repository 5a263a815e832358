/**
 * What every panel shows, derived from the actors' snapshots at one seq: the workspace's
 * lifecycle, one status per agent, the lock of every file, each agent's prompt queue, the chat.
 */
import { findPrompt, stateString, type ActorSnapshot, type AgentContext, type LockContext, type LockHolder, type LockWaiter, type PromptQueueContext, type WorkspaceContext } from "@atelier/actors/machines";
import type { Replay } from "./replay.ts";

export type AgentStatus = "offline" | "idle" | "analyzing" | "editing" | "indexing" | "waiting" | "error" | "unregistered";
export type WorkspaceStatus = "none" | "creating" | "active" | "idle" | "hibernating" | "hibernated" | "resuming" | "terminating" | "terminated" | "error";

export interface AgentView {
  readonly id: string;
  readonly vendor: string;
  readonly model: string;
  readonly status: AgentStatus;
  readonly connected: boolean;
  readonly queueDepth: number;
  readonly processing: string | null;
  readonly tokensIn: number;
  readonly tokensOut: number;
  readonly cost: number;
  readonly promptsDone: number;
  readonly lastError: string | null;
}

export interface LockView {
  readonly path: string;
  readonly state: "free" | "shared" | "exclusive";
  readonly holders: readonly LockHolder[];
  readonly waiters: readonly LockWaiter[];
}

export type ChatStatus = "queued" | "processing" | "completed" | "failed" | "cancelled";

export interface ChatItem {
  readonly promptId: string;
  readonly agent: string;
  readonly author: string;
  readonly text: string;
  readonly seq: number;
  readonly at: number;
  readonly status: ChatStatus;
  /** 1-based place in the agent's queue while queued. */
  readonly position: number | null;
  readonly answer?: { readonly text: string; readonly seq: number; readonly at: number; readonly tokens: number; readonly cost: number };
}

export interface WorkspaceView {
  readonly id: string;
  readonly name: string;
  readonly status: WorkspaceStatus;
  readonly createdAt: number;
  /** Why it is in error (cleared by a restart). */
  readonly lastError: string | null;
}

export interface View {
  readonly seq: number;
  /** Epoch ms at this seq (the log's clock, not the wall clock). */
  readonly time: number;
  readonly workspace: WorkspaceView;
  readonly agents: readonly AgentView[];
  readonly locks: readonly LockView[];
  readonly chat: readonly ChatItem[];
  /** How many older chat items were left out (see `chatLimit`). */
  readonly chatHidden: number;
}

const agentStatus = (state: string): AgentStatus => {
  if (state.startsWith("busy")) {
    const sub = state.split(".")[1];
    return sub === "editing" || sub === "indexing" || sub === "waiting" ? sub : "analyzing";
  }
  return state === "idle" || state === "offline" || state === "error" ? state : "unregistered";
};

/**
 * The previous objects per replay, reused when nothing in them changed, so a seek or a live event
 * hands Solid's <For> the same references and only the rows that changed are re-rendered.
 */
interface Reuse {
  chat: Map<string, ChatItem>;
  agents: Map<string, AgentView>;
  locks: Map<string, LockView>;
}
const reuseOf = new WeakMap<Replay, Reuse>();
const sameShallow = <T extends object>(a: T, b: T): boolean => {
  for (const k in a) if (a[k] !== b[k]) return false;
  return true;
};
const reuse = <T extends object>(cache: Map<string, T>, key: string, next: T, same: (a: T, b: T) => boolean = sameShallow): T => {
  const prev = cache.get(key);
  if (prev && same(prev, next)) return prev;
  cache.set(key, next);
  return next;
};
const sameChat = (a: ChatItem, b: ChatItem) => a.status === b.status && a.position === b.position && a.answer?.seq === b.answer?.seq && a.seq === b.seq;

/** Derives the panels' view at `seq`, keeping the last `chatLimit` chat items. */
export const viewAt = (replay: Replay, seq: number, chatLimit = 200): View => {
  let cache = reuseOf.get(replay);
  if (!cache) reuseOf.set(replay, (cache = { chat: new Map(), agents: new Map(), locks: new Map() }));
  const actors = replay.actorsAt(seq);
  const landed = replay.landing(seq);
  const queues = new Map<string, PromptQueueContext>();
  const agentSnaps: [string, ActorSnapshot][] = [];
  const locks: LockView[] = [];
  let workspace: WorkspaceView = { id: "", name: "", status: "none", createdAt: 0, lastError: null };
  for (const [entity, snap] of actors) {
    if (entity === "workspace") {
      const c = snap.context as WorkspaceContext;
      workspace = { id: c.workspaceId, name: c.name, status: stateString(snap.value) as WorkspaceStatus, createdAt: c.createdAt, lastError: c.lastError };
    } else if (entity.startsWith("agent:")) agentSnaps.push([entity.slice(6), snap]);
    else if (entity.startsWith("prompts:")) queues.set(entity.slice(8), snap.context as PromptQueueContext);
    else if (entity.startsWith("lock:")) {
      const c = snap.context as LockContext;
      const state = c.holders.length === 0 ? "free" : c.holders.some((h) => h.mode === "exclusive") ? "exclusive" : "shared";
      locks.push(reuse(cache.locks, c.path, { path: c.path, state, holders: c.holders, waiters: c.waiters }));
    }
  }
  const agents: AgentView[] = agentSnaps
    .map(([id, snap]) => {
      const c = snap.context as AgentContext;
      const q = queues.get(id);
      return reuse(cache.agents, id, {
        id,
        vendor: c.vendor ?? "custom",
        model: c.model,
        status: agentStatus(stateString(snap.value)),
        connected: c.connected,
        queueDepth: q ? q.queued.length : 0,
        processing: q?.processing ?? null,
        tokensIn: c.tokensIn,
        tokensOut: c.tokensOut,
        cost: c.cost,
        promptsDone: c.promptsDone,
        lastError: c.lastError,
      });
    })
    .filter((a) => a.status !== "unregistered")
    .sort((a, b) => a.id.localeCompare(b.id));
  locks.sort((a, b) => a.path.localeCompare(b.path));

  const upTo = replay.derived.promptCountUpTo(landed);
  const shown = replay.derived.prompts.slice(Math.max(0, upTo - chatLimit), upTo);
  const chat: ChatItem[] = shown.map((p) => {
    const q = queues.get(p.agent);
    const entry = q ? findPrompt(q, p.promptId) : undefined;
    const outcome = replay.derived.outcomeAt(p.promptId, landed);
    const status: ChatStatus = outcome?.status ?? entry?.status ?? "queued";
    const pos = status === "queued" && q ? q.queued.indexOf(p.promptId) : -1;
    const item: ChatItem = {
      promptId: p.promptId,
      agent: p.agent,
      author: p.author,
      text: p.text,
      seq: p.seq,
      at: p.at,
      status,
      position: pos >= 0 ? pos + 1 : null,
      ...(outcome ? { answer: { text: outcome.text, seq: outcome.seq, at: outcome.at, tokens: outcome.tokensIn + outcome.tokensOut, cost: outcome.cost } } : {}),
    };
    return reuse(cache.chat, p.promptId, item, sameChat);
  });
  return { seq: landed, time: replay.timeAt(landed), workspace, agents, locks, chat, chatHidden: upTo - shown.length };
};
