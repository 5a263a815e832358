import { randomId, type Random } from "@atelier/events";
import {
  findRequest,
  findTask,
  entities,
  pendingTasks,
  type AgentContext,
  type PromptQueueContext,
  type SharedContextState,
  type SharedEntry,
  type Task,
  type TaskQueueContext,
  type Vendor,
} from "../machines/index.ts";
import { stateString } from "../machines/world.ts";
import type { Engine } from "./engine.ts";
import { CommandRejected } from "./errors.ts";
import { touch } from "./reactions.ts";
import type { Tx } from "./tx.ts";

export interface AgentSpec {
  readonly agentId: string;
  readonly vendor: Vendor;
  readonly model: string;
  readonly focusPrompt?: string;
}

export interface EnqueueSpec {
  readonly text: string;
  readonly author: string;
  readonly priority?: number;
  /** Idempotency key: a retry with the same key returns the first prompt instead of queueing again. */
  readonly clientRequestId?: string;
  /** Cancel the prompt in flight (003: a new user message can interrupt). */
  readonly interrupt?: boolean;
}

const agentCtx = (tx: Tx, agent: string) => {
  const snap = tx.get(entities.agent(agent));
  if (!snap || stateString(snap.value) === "unregistered") throw new CommandRejected("unknown_agent", `no agent ${agent}`, entities.agent(agent));
  return { state: stateString(snap.value), ctx: snap.context as AgentContext };
};

/** Cancels a prompt; if it was in flight the agent is freed at once (the runner is told to abort). */
const cancelPrompt = (tx: Tx, agent: string, promptId: string, reason: "user" | "interrupted" | "workspace_terminated") => {
  const q = tx.get(entities.prompts(agent))?.context as PromptQueueContext | undefined;
  const wasProcessing = q?.processing === promptId;
  tx.apply(entities.prompts(agent), { type: "prompt.cancelled", payload: { at: tx.now, agent, promptId, reason } }, agent);
  const a = tx.get(entities.agent(agent));
  if (wasProcessing && a && (a.context as AgentContext).promptId === promptId) {
    tx.apply(entities.agent(agent), { type: "agent.work_finished", payload: { at: tx.now, promptId, outcome: "cancelled", tokensIn: 0, tokensOut: 0, cost: 0 } }, agent);
  }
};

export const agentCommands = (engine: Engine) => ({
  register: (spec: AgentSpec) =>
    engine.run((tx) => {
      tx.apply(entities.agent(spec.agentId), {
        type: "agent.registered",
        payload: { at: tx.now, agentId: spec.agentId, vendor: spec.vendor, model: spec.model, focusPrompt: spec.focusPrompt ?? "" },
      });
    }).then(() => undefined),
  configure: (agent: string, patch: { model?: string; focusPrompt?: string }) =>
    engine.run((tx) => {
      agentCtx(tx, agent);
      tx.apply(entities.agent(agent), { type: "agent.configured", payload: { at: tx.now, ...patch } });
    }).then(() => undefined),
  fail: (agent: string, message: string) =>
    engine.run((tx) => void tx.apply(entities.agent(agent), { type: "agent.failed", payload: { at: tx.now, message } }, agent)).then(() => undefined),
  restart: (agent: string) =>
    engine.run((tx) => void tx.apply(entities.agent(agent), { type: "agent.restarted", payload: { at: tx.now } }, agent)).then(() => undefined),
  get: (agent: string) => {
    const snap = engine.committed.get(entities.agent(agent));
    return snap ? { state: stateString(snap.value), ...(snap.context as AgentContext) } : undefined;
  },
  list: () =>
    [...engine.committed]
      .filter(([e]) => e.startsWith("agent:"))
      .map(([, snap]) => ({ state: stateString(snap.value), ...(snap.context as AgentContext) })),
});

export const promptCommands = (engine: Engine, random: Random, opts: { maxQueueDepth: number; touchGranularityMs: number }) => ({
  /**
   * Queues a user message for an agent (004). Dispatch happens in the same transaction when the
   * agent is idle with a runner; a hibernated workspace is woken. Resolves once durable.
   */
  enqueue: async (agent: string, spec: EnqueueSpec): Promise<{ promptId: string; duplicate: boolean }> => {
    const { value } = await engine.run((tx) => {
      agentCtx(tx, agent);
      const q = tx.get(entities.prompts(agent))?.context as PromptQueueContext | undefined;
      const known = spec.clientRequestId !== undefined && q ? findRequest(q, spec.clientRequestId) : undefined;
      if (known !== undefined) return { promptId: known, duplicate: true };
      if ((q?.queued.length ?? 0) >= opts.maxQueueDepth) {
        throw new CommandRejected("queue_full", `prompt queue of ${agent} is full (${opts.maxQueueDepth} queued); retry later`, entities.prompts(agent));
      }
      if (spec.interrupt && q?.processing) cancelPrompt(tx, agent, q.processing, "interrupted");
      const promptId = randomId(random, "pr_");
      tx.apply(entities.prompts(agent), {
        type: "prompt.enqueued",
        payload: {
          at: tx.now,
          agent,
          promptId,
          clientRequestId: spec.clientRequestId ?? null,
          text: spec.text,
          priority: spec.priority ?? 0,
          author: spec.author,
        },
      });
      const ws = tx.get(entities.workspace);
      if (ws && stateString(ws.value) === "hibernated") {
        tx.apply(entities.workspace, { type: "workspace.resume_requested", payload: { at: tx.now, reason: "prompt" } });
      }
      touch(tx, "prompt", opts.touchGranularityMs);
      return { promptId, duplicate: false };
    });
    return value;
  },
  cancel: (agent: string, promptId: string) => engine.run((tx) => cancelPrompt(tx, agent, promptId, "user")).then(() => undefined),
  /** Cancels every open prompt of every agent (workspace teardown). */
  cancelAll: (tx: Tx) => {
    for (const entity of [...tx.entitiesOf("prompts")]) {
      const q = tx.get(entity)!.context as PromptQueueContext;
      for (const id of [...(q.processing ? [q.processing] : []), ...q.queued]) cancelPrompt(tx, q.agent, id, "workspace_terminated");
    }
  },
  get: (agent: string) => engine.committed.get(entities.prompts(agent))?.context as PromptQueueContext | undefined,
});

export interface TaskSpec {
  readonly title: string;
  readonly priority?: number;
  readonly assignee?: string;
  readonly data?: unknown;
  readonly by: string;
}

export const taskCommands = (engine: Engine, random: Random) => {
  const tasksCtx = (tx: Tx) => tx.get(entities.tasks)?.context as TaskQueueContext | undefined;
  const finish = (type: "task.completed" | "task.failed" | "task.released", payload: Record<string, unknown>) =>
    engine.run((tx) => void tx.apply(entities.tasks, { type, payload: { at: tx.now, ...payload } } as never, payload.agent as string)).then(() => undefined);
  return {
    push: async (spec: TaskSpec): Promise<string> => {
      const { value } = await engine.run((tx) => {
        const taskId = randomId(random, "task_");
        tx.apply(entities.tasks, {
          type: "task.enqueued",
          payload: { at: tx.now, taskId, title: spec.title, priority: spec.priority ?? 0, assignee: spec.assignee ?? null, data: spec.data ?? null, by: spec.by },
        });
        return taskId;
      });
      return value;
    },
    /** Claims the most urgent pending task this agent may take, or undefined when none. */
    claim: async (agent: string): Promise<Task | undefined> => {
      const { value } = await engine.run((tx) => {
        const ctx = tasksCtx(tx);
        const next = ctx && pendingTasks(ctx).find((t) => t.assignee === null || t.assignee === agent);
        if (!next) return undefined;
        tx.apply(entities.tasks, { type: "task.claimed", payload: { at: tx.now, taskId: next.taskId, agent } }, agent);
        return tasksCtx(tx)!.tasks[next.taskId];
      });
      return value;
    },
    complete: (taskId: string, agent: string, result: unknown) => finish("task.completed", { taskId, agent, result }),
    fail: (taskId: string, agent: string, error: string) => finish("task.failed", { taskId, agent, error }),
    release: (taskId: string, agent: string) => finish("task.released", { taskId, agent, reason: "gave_up" }),
    pending: () => {
      const ctx = engine.committed.get(entities.tasks)?.context as TaskQueueContext | undefined;
      return ctx ? pendingTasks(ctx) : [];
    },
    get: (taskId: string) => {
      const ctx = engine.committed.get(entities.tasks)?.context as TaskQueueContext | undefined;
      return ctx && findTask(ctx, taskId);
    },
  };
};

export const contextCommands = (engine: Engine) => {
  const entries = () => (engine.committed.get(entities.context)?.context as SharedContextState | undefined)?.entries ?? {};
  return {
    set: (key: string, value: unknown, updatedBy: string) =>
      engine.run((tx) => void tx.apply(entities.context, { type: "context.updated", payload: { at: tx.now, key, value, updatedBy } }, updatedBy)).then(() => undefined),
    delete: (key: string, deletedBy: string) =>
      engine.run((tx) => void tx.tryApply(entities.context, { type: "context.deleted", payload: { at: tx.now, key, deletedBy } }, deletedBy)).then(() => undefined),
    get: (key: string): SharedEntry | undefined => entries()[key],
    has: (key: string) => key in entries(),
    entries: (): [string, SharedEntry][] => Object.entries(entries()),
  };
};
