import {
  entities,
  type AgentContext,
  type AgentEffect,
  type LockContext,
  type LockGrantsEffect,
  type PromptQueueContext,
  type TaskQueueContext,
  type WorkspaceContext,
} from "../machines/index.ts";
import { stateString } from "../machines/world.ts";
import type { Reactor, Tx } from "./tx.ts";

/**
 * Consequences that are themselves events: a release grants the waiters it unblocks, an agent
 * that goes offline or fails lets go of its locks, waits, tasks and prompt. They join the
 * transaction that caused them, so the log never shows the cause without its consequences.
 */
export const reactor: Reactor = (tx, _entity, effect) => {
  if (effect.type === "lock.grants") {
    const { path, grants } = effect as LockGrantsEffect;
    for (const g of grants) grantLock(tx, path, g.agent, g.mode, g.leaseMs);
    return true;
  }
  if (effect.type === "agent.relinquish") {
    relinquish(tx, effect as AgentEffect);
    return true;
  }
  return false;
};

export const grantLock = (tx: Tx, path: string, agent: string, mode: "shared" | "exclusive", leaseMs: number): void => {
  const entity = entities.lock(path);
  const ctx = tx.get(entity)?.context as LockContext | undefined;
  const token = (ctx?.lastToken ?? 0) + 1;
  const expiresAt = tx.now + leaseMs;
  tx.apply(entity, { type: "lock.acquired", payload: { at: tx.now, path, agent, mode, token, expiresAt } }, agent);
  tx.after({ type: "lock.granted", entity, path, agent, mode, token, expiresAt });
};

const relinquish = (tx: Tx, { agent, promptId, reason }: AgentEffect): void => {
  for (const entity of [...tx.entitiesOf("lock")]) {
    const ctx = tx.get(entity)!.context as LockContext;
    const held = ctx.holders.find((h) => h.agent === agent);
    if (held) {
      tx.apply(entity, { type: "lock.released", payload: { at: tx.now, path: ctx.path, agent, token: held.token, reason: "holder_offline" } }, agent);
    }
    if (ctx.waiters.some((w) => w.agent === agent)) {
      tx.apply(entity, { type: "lock.wait_cancelled", payload: { at: tx.now, path: ctx.path, agent, reason: "holder_offline" } }, agent);
      tx.after({ type: "lock.wait_ended", entity, path: ctx.path, agent });
    }
  }
  const queue = tx.get(entities.prompts(agent))?.context as PromptQueueContext | undefined;
  if (promptId && queue?.processing === promptId) {
    const why = reason === "offline" ? "runner_disconnected" : "agent_failed";
    tx.apply(entities.prompts(agent), { type: "prompt.requeued", payload: { at: tx.now, agent, promptId, reason: why } }, agent);
  }
  const tasks = tx.get(entities.tasks)?.context as TaskQueueContext | undefined;
  for (const t of Object.values(tasks?.tasks ?? {})) {
    if (t.status === "claimed" && t.claimedBy === agent) {
      tx.apply(entities.tasks, { type: "task.released", payload: { at: tx.now, taskId: t.taskId, agent, reason: "agent_offline" } }, agent);
    }
  }
};

const workspaceState = (tx: Tx) => {
  const s = tx.get(entities.workspace);
  return s ? stateString(s.value) : "uncreated";
};

/**
 * Activity that counts for the idle timer. Appends a touch only when it changes something that
 * matters: waking an idle workspace, or moving the idle deadline by at least `granularityMs`
 * (so a burst of lock traffic costs one event per second, not one per command).
 */
export const touch = (tx: Tx, reason: "prompt" | "runner" | "lock" | "user", granularityMs: number): void => {
  const s = tx.get(entities.workspace);
  if (!s) return;
  const state = stateString(s.value);
  const ctx = s.context as WorkspaceContext;
  if (state === "idle" || (state === "active" && tx.now - ctx.lastActivityAt >= granularityMs)) {
    tx.tryApply(entities.workspace, { type: "workspace.touched", payload: { at: tx.now, reason } });
  }
};

/**
 * Dispatch (004's drain): an agent whose runner is connected and who is idle gets the head of its
 * queue, while the workspace is running. Runs at the end of every transaction that changed an
 * agent, a queue or the workspace.
 */
export const drain = (tx: Tx, granularityMs: number): void => {
  const ws = workspaceState(tx);
  if (ws !== "active" && ws !== "idle") return;
  const agents = tx.overlay.has(entities.workspace) ? [...tx.entitiesOf("agent")].map((e) => e.slice("agent:".length)) : tx.changedAgents();
  for (const agent of agents) {
    const a = tx.get(entities.agent(agent));
    const q = tx.get(entities.prompts(agent))?.context as PromptQueueContext | undefined;
    if (!a || !q || stateString(a.value) !== "idle") continue;
    const ctx = a.context as AgentContext;
    const head = q.queued[0];
    if (!ctx.connected || q.processing !== null || head === undefined) continue;
    const attempt = q.prompts[head]!.attempt + 1;
    tx.apply(entities.prompts(agent), { type: "prompt.started", payload: { at: tx.now, agent, promptId: head, attempt, generation: ctx.generation } }, agent);
    tx.apply(entities.agent(agent), { type: "agent.work_started", payload: { at: tx.now, promptId: head } }, agent);
    touch(tx, "prompt", granularityMs);
  }
};
