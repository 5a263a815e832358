import { assign, emit, setup } from "xstate";
import type { Ev } from "../events.ts";
import type { Vendor } from "./events.ts";

export interface AgentContext {
  readonly agentId: string;
  readonly vendor: Vendor | null;
  readonly model: string;
  readonly focusPrompt: string;
  /** Generation of the latest runner connection (0 before the first). */
  readonly generation: number;
  readonly connected: boolean;
  /** The prompt the agent is busy with. */
  readonly promptId: string | null;
  readonly tokensIn: number;
  readonly tokensOut: number;
  readonly cost: number;
  readonly promptsDone: number;
  /** Tool calls its runners reported, over all prompts. */
  readonly toolCalls: number;
  readonly lastError: string | null;
}

export type AgentEvent = Ev<
  | "agent.registered"
  | "agent.configured"
  | "agent.connected"
  | "agent.disconnected"
  | "agent.work_started"
  | "agent.activity_changed"
  | "agent.tool_called"
  | "agent.work_finished"
  | "agent.failed"
  | "agent.restarted"
>;

/**
 * Effect: the agent went offline or failed, so the runtime releases its locks, cancels its lock
 * waits, gives back its tasks and requeues the prompt it was working on.
 */
export type AgentEffect = { type: "agent.relinquish"; agent: string; promptId: string | null; reason: "offline" | "failed" };

export const initialAgentContext = (agentId: string): AgentContext => ({
  agentId,
  vendor: null,
  model: "",
  focusPrompt: "",
  generation: 0,
  connected: false,
  promptId: null,
  tokensIn: 0,
  tokensOut: 0,
  cost: 0,
  promptsDone: 0,
  toolCalls: 0,
  lastError: null,
});

const activityTarget = (activity: string) => ({
  guard: ({ event }: { event: AgentEvent }) => event.type === "agent.activity_changed" && event.payload.activity === activity,
  target: `#agent.busy.${activity}`,
});

/** One agent: offline (no runner) → idle → busy (analyzing | editing | indexing | waiting) → idle; error. */
export const agentMachine = setup({
  types: {
    context: {} as AgentContext,
    events: {} as AgentEvent,
    input: {} as { agentId: string },
    emitted: {} as AgentEffect,
  },
  guards: {
    isMe: ({ context, event }) => event.type === "agent.registered" && event.payload.agentId === context.agentId,
    nextGeneration: ({ context, event }) => event.type === "agent.connected" && event.payload.generation === context.generation + 1,
    currentGeneration: ({ context, event }) =>
      event.type === "agent.disconnected" && context.connected && event.payload.generation === context.generation,
    samePrompt: ({ context, event }) => event.type === "agent.work_finished" && event.payload.promptId === context.promptId,
    /** A tool call of the current runner for the prompt in flight; a late or stale one is refused. */
    currentWork: ({ context, event }) =>
      event.type === "agent.tool_called" && event.payload.promptId === context.promptId && event.payload.generation === context.generation,
    connected: ({ context }) => context.connected,
  },
  actions: {
    register: assign(({ event }) => {
      if (event.type !== "agent.registered") return {};
      const { vendor, model, focusPrompt } = event.payload;
      return { vendor, model, focusPrompt };
    }),
    configure: assign(({ context, event }) => {
      if (event.type !== "agent.configured") return {};
      return { model: event.payload.model ?? context.model, focusPrompt: event.payload.focusPrompt ?? context.focusPrompt };
    }),
    connect: assign(({ event }) => (event.type === "agent.connected" ? { generation: event.payload.generation, connected: true } : {})),
    disconnect: assign({ connected: false, promptId: null }),
    announceOffline: emit(({ context }) => ({
      type: "agent.relinquish" as const,
      agent: context.agentId,
      promptId: context.promptId,
      reason: "offline" as const,
    })),
    announceFailure: emit(({ context }) => ({
      type: "agent.relinquish" as const,
      agent: context.agentId,
      promptId: context.promptId,
      reason: "failed" as const,
    })),
    countTool: assign(({ context }) => ({ toolCalls: context.toolCalls + 1 })),
    take: assign(({ event }) => (event.type === "agent.work_started" ? { promptId: event.payload.promptId } : {})),
    tally: assign(({ context, event }) => {
      if (event.type !== "agent.work_finished") return {};
      const p = event.payload;
      return {
        promptId: null,
        tokensIn: context.tokensIn + p.tokensIn,
        tokensOut: context.tokensOut + p.tokensOut,
        cost: context.cost + p.cost,
        promptsDone: context.promptsDone + 1,
      };
    }),
    noteError: assign(({ event }) => (event.type === "agent.failed" ? { lastError: event.payload.message, promptId: null } : {})),
    clearError: assign({ lastError: null }),
  },
}).createMachine({
  id: "agent",
  context: ({ input }) => initialAgentContext(input.agentId),
  initial: "unregistered",
  states: {
    unregistered: { on: { "agent.registered": { guard: "isMe", actions: "register", target: "offline" } } },
    offline: {
      on: {
        "agent.connected": { guard: "nextGeneration", actions: "connect", target: "idle" },
        "agent.configured": { actions: "configure" },
      },
    },
    idle: {
      on: {
        "agent.work_started": { actions: "take", target: "busy" },
        "agent.disconnected": { guard: "currentGeneration", actions: ["announceOffline", "disconnect"], target: "offline" },
        "agent.failed": { actions: ["announceFailure", "noteError"], target: "error" },
        "agent.configured": { actions: "configure" },
      },
    },
    busy: {
      initial: "analyzing",
      on: {
        "agent.activity_changed": [
          activityTarget("analyzing"),
          activityTarget("editing"),
          activityTarget("indexing"),
          activityTarget("waiting"),
        ],
        "agent.tool_called": { guard: "currentWork", actions: "countTool" },
        "agent.work_finished": { guard: "samePrompt", actions: "tally", target: "idle" },
        "agent.disconnected": { guard: "currentGeneration", actions: ["announceOffline", "disconnect"], target: "offline" },
        "agent.failed": { actions: ["announceFailure", "noteError"], target: "error" },
        "agent.configured": { actions: "configure" },
      },
      states: { analyzing: {}, editing: {}, indexing: {}, waiting: {} },
    },
    error: {
      on: {
        "agent.connected": { guard: "nextGeneration", actions: "connect" },
        "agent.disconnected": { guard: "currentGeneration", actions: ["announceOffline", "disconnect"] },
        "agent.restarted": [
          { guard: "connected", actions: "clearError", target: "idle" },
          { actions: "clearError", target: "offline" },
        ],
        "agent.configured": { actions: "configure" },
      },
    },
  },
});
