import { and, assign, emit, not, or, setup, stateIn } from "xstate";
import type { Ev } from "../events.ts";
import type { WorkspaceConfig } from "./events.ts";

export interface WorkspaceContext {
  readonly workspaceId: string;
  readonly name: string;
  readonly config: WorkspaceConfig;
  readonly createdAt: number;
  readonly lastActivityAt: number;
  /** Deadlines (epoch ms) the runtime arms as timers; null when not running in this state. */
  readonly idleDeadline: number | null;
  readonly hibernateDeadline: number | null;
  readonly lifetimeDeadline: number | null;
  readonly maxDeadline: number | null;
  readonly snapshotRef: string | null;
  readonly lastError: string | null;
}

export const DEFAULT_WORKSPACE_CONFIG: WorkspaceConfig = {
  idleTimeoutMs: 5 * 60_000,
  hibernateAfterMs: 30 * 60_000,
  lifetimeMs: 8 * 3_600_000,
  maxLifetimeMs: 24 * 3_600_000,
};

export type WorkspaceEvent = Ev<
  | "workspace.created"
  | "workspace.activated"
  | "workspace.touched"
  | "workspace.idle_timeout"
  | "workspace.hibernate_timeout"
  | "workspace.lifetime_expired"
  | "workspace.max_lifetime_reached"
  | "workspace.renewed"
  | "workspace.hibernate_requested"
  | "workspace.hibernated"
  | "workspace.resume_requested"
  | "workspace.resumed"
  | "workspace.terminate_requested"
  | "workspace.terminated"
  | "workspace.failed"
  | "workspace.restarted"
>;

/** Work the runtime does outside the machine; each ends by appending the matching event. */
export type WorkspaceEffect = { type: "workspace.hibernate" } | { type: "workspace.resume" } | { type: "workspace.terminate" };

export const initialWorkspaceContext = (): WorkspaceContext => ({
  workspaceId: "",
  name: "",
  config: DEFAULT_WORKSPACE_CONFIG,
  createdAt: 0,
  lastActivityAt: 0,
  idleDeadline: null,
  hibernateDeadline: null,
  lifetimeDeadline: null,
  maxDeadline: null,
  snapshotRef: null,
  lastError: null,
});

const at = (event: WorkspaceEvent) => event.payload.at;

/** Deadlines of a fresh running period (activation, resume, restart): lifetime and maximum restart. */
const startRun = ({ context, event }: { context: WorkspaceContext; event: WorkspaceEvent }): Partial<WorkspaceContext> => {
  const now = at(event);
  const maxDeadline = now + context.config.maxLifetimeMs;
  return {
    lastActivityAt: now,
    idleDeadline: now + context.config.idleTimeoutMs,
    hibernateDeadline: null,
    lifetimeDeadline: Math.min(now + context.config.lifetimeMs, maxDeadline),
    maxDeadline,
  };
};
const stopTimers = { idleDeadline: null, hibernateDeadline: null, lifetimeDeadline: null, maxDeadline: null } as const;
const due = (deadline: number | null, event: WorkspaceEvent) => deadline !== null && at(event) >= deadline;

/**
 * The workspace lifecycle (000 §3.3, 003, 004): creating → active ⇄ idle → hibernating →
 * hibernated → resuming → active; active|idle|hibernated|error → terminating → terminated; any → error → active.
 */
export const workspaceMachine = setup({
  types: { context: {} as WorkspaceContext, events: {} as WorkspaceEvent, emitted: {} as WorkspaceEffect },
  guards: {
    idleDue: ({ context, event }) => due(context.idleDeadline, event),
    hibernateDue: ({ context, event }) => due(context.hibernateDeadline, event),
    lifetimeDue: ({ context, event }) => due(context.lifetimeDeadline, event),
    maxDue: ({ context, event }) => due(context.maxDeadline, event),
    // The lifetime deadline is set exactly while active or idle, so it doubles as "running".
    running: ({ context }) => context.lifetimeDeadline !== null,
    exists: ({ context }) => context.workspaceId !== "",
  },
  actions: {
    create: assign(({ event }) => {
      if (event.type !== "workspace.created") return {};
      const { workspaceId, name, config, at } = event.payload;
      return { workspaceId, name, config, createdAt: at, lastActivityAt: at };
    }),
    startRun: assign(startRun),
    touch: assign(({ context, event }) => ({
      lastActivityAt: at(event),
      idleDeadline: at(event) + context.config.idleTimeoutMs,
      hibernateDeadline: null,
    })),
    goIdle: assign(({ context, event }) => ({ idleDeadline: null, hibernateDeadline: at(event) + context.config.hibernateAfterMs })),
    renew: assign(({ context, event }) => ({
      lifetimeDeadline: Math.min(at(event) + context.config.lifetimeMs, context.maxDeadline ?? Number.POSITIVE_INFINITY),
    })),
    stopTimers: assign(stopTimers),
    storeRef: assign(({ event }) => (event.type === "workspace.hibernated" || event.type === "workspace.resumed" ? { snapshotRef: event.payload.snapshotRef } : {})),
    noteError: assign(({ event }) => ({ ...stopTimers, lastError: event.type === "workspace.failed" ? event.payload.message : null })),
    clearError: assign({ lastError: null }),
    hibernate: emit({ type: "workspace.hibernate" as const }),
    resume: emit({ type: "workspace.resume" as const }),
    terminate: emit({ type: "workspace.terminate" as const }),
  },
}).createMachine({
  id: "workspace",
  context: initialWorkspaceContext,
  initial: "uncreated",
  states: {
    uncreated: { on: { "workspace.created": { actions: "create", target: "creating" } } },
    creating: { on: { "workspace.activated": { actions: "startRun", target: "active" } } },
    active: {
      on: {
        "workspace.touched": { actions: "touch" },
        "workspace.idle_timeout": { guard: "idleDue", actions: "goIdle", target: "idle" },
      },
    },
    idle: {
      on: {
        "workspace.touched": { actions: "touch", target: "active" },
        "workspace.hibernate_timeout": { guard: "hibernateDue", actions: ["stopTimers", "hibernate"], target: "hibernating" },
      },
    },
    hibernating: { on: { "workspace.hibernated": { actions: "storeRef", target: "hibernated" } } },
    hibernated: { on: { "workspace.resume_requested": { actions: "resume", target: "resuming" } } },
    resuming: { on: { "workspace.resumed": { actions: ["storeRef", "startRun"], target: "active" } } },
    terminating: { on: { "workspace.terminated": { target: "terminated" } } },
    terminated: { type: "final" },
    error: { on: { "workspace.restarted": { actions: ["clearError", "startRun"], target: "active" } } },
  },
  on: {
    // Shared by active and idle; other states ignore them (unhandled → same snapshot → refused).
    "workspace.lifetime_expired": { guard: "lifetimeDue", actions: ["stopTimers", "hibernate"], target: ".hibernating" },
    "workspace.max_lifetime_reached": { guard: "maxDue", actions: ["stopTimers", "terminate"], target: ".terminating" },
    "workspace.renewed": { guard: "running", actions: "renew" },
    "workspace.hibernate_requested": {
      guard: "running",
      actions: ["stopTimers", "hibernate"],
      target: ".hibernating",
    },
    // Also from hibernated (its archive needs no resume to be ended) and from error (a broken
    // workspace can be ended without a restart first); never mid-transition (ADR 0014).
    "workspace.terminate_requested": {
      guard: or(["running", stateIn("hibernated"), stateIn("error")]),
      actions: ["stopTimers", "terminate"],
      target: ".terminating",
    },
    // A terminated workspace is final: a late failure report must not reopen it through restart.
    "workspace.failed": {
      guard: and(["exists", not(stateIn("terminated"))]),
      actions: "noteError",
      target: ".error",
    },
  },
});
