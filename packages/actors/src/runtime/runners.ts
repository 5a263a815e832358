import type { Timer } from "@atelier/events";
import { entities, type Activity, type AgentContext, type ToolKind } from "../machines/index.ts";
import { stateString } from "../machines/world.ts";
import type { Engine } from "./engine.ts";
import { CommandRejected, refused } from "./errors.ts";
import { touch } from "./reactions.ts";

/** What the runtime sends to an agent's runner (the gateway forwards it over the runner WebSocket). */
export interface RunnerSink {
  dispatch(prompt: { promptId: string; text: string; attempt: number }): void;
  abort(promptId: string): void;
  close(reason: string): void;
}

export interface PromptResult {
  readonly result: string;
  readonly tokensIn?: number;
  readonly tokensOut?: number;
  readonly cost?: number;
}

/** A tool the runner used while working on a prompt (an `edit` of `file` is an artifact). */
export interface ToolCall {
  readonly kind: ToolKind;
  readonly file?: string;
  readonly summary: string;
}

/**
 * One runner connection of one agent. Every call is fenced by `generation`: once a newer runner
 * connects (or this one is dropped), its calls are refused with `stale_runner`.
 */
export interface RunnerConnection {
  readonly agent: string;
  readonly generation: number;
  /** Liveness only: kept in memory, never written (001: heartbeats are not state). */
  heartbeat(): void;
  activity(activity: Activity): Promise<void>;
  /** Records a tool call for the prompt in flight; refused for any other prompt. */
  tool(promptId: string, call: ToolCall): Promise<void>;
  /** Records the first streamed token of the prompt's current attempt; refused after the first. */
  firstToken(promptId: string): Promise<void>;
  complete(promptId: string, result: PromptResult): Promise<void>;
  fail(promptId: string, error: string): Promise<void>;
  close(): Promise<void>;
}

interface Live {
  generation: number;
  sink: RunnerSink | undefined;
  lastSeen: number;
  timer: Timer | undefined;
}

/**
 * The session registry of 001 for runners: who is connected with which generation, and when each
 * was last heard from. A runner silent for the heartbeat TTL is disconnected, which releases its
 * locks and requeues its prompt.
 */
export class RunnerRegistry {
  private readonly live = new Map<string, Live>();

  constructor(
    private readonly engine: Engine,
    private readonly heartbeatTtlMs: number,
    private readonly touchGranularityMs: number,
    private readonly onHeartbeat: (agent: string, at: number) => void,
  ) {
    engine.onCommitted(({ envelopes, effects }) => {
      for (const env of envelopes) {
        if (env.type !== "agent.disconnected") continue;
        const agent = env.entity.slice("agent:".length);
        const live = this.live.get(agent);
        const generation = (env.payload as { generation: number }).generation;
        if (live && live.generation === generation) this.drop(agent, (env.payload as { reason: string }).reason);
      }
      for (const fx of effects) {
        const agent = fx.agent as string;
        const live = this.live.get(agent);
        if (!live?.sink || live.generation !== fx.generation) continue;
        if (fx.type === "runner.dispatch") live.sink.dispatch({ promptId: fx.promptId as string, text: fx.text as string, attempt: fx.attempt as number });
        if (fx.type === "runner.abort") live.sink.abort(fx.promptId as string);
      }
    });
  }

  /**
   * After recovery no runner is attached, yet the log may say some are connected. Give each the
   * heartbeat TTL to come back (a reconnect replaces it) before declaring it gone.
   */
  adoptRecovered(): void {
    for (const [entity, snap] of this.engine.committed) {
      if (!entity.startsWith("agent:")) continue;
      const ctx = snap.context as AgentContext;
      if (ctx.connected) this.watch(ctx.agentId, { generation: ctx.generation, sink: undefined, lastSeen: this.engine.now, timer: undefined });
    }
  }

  /** Connects a runner for `agent`; an existing connection is replaced (and its prompt requeued). */
  async connect(agent: string, sink: RunnerSink): Promise<RunnerConnection> {
    const { value: generation } = await this.engine.run((tx) => {
      // A terminated workspace is final: a runner reconnecting after the teardown must not append to it.
      const workspace = tx.get(entities.workspace);
      const state = workspace && stateString(workspace.value);
      if (state === "terminating" || state === "terminated") throw refused(entities.workspace, "a runner", state);
      // Stopped for hibernation: nothing may follow `workspace.hibernated` (the archive ends there), so a runner
      // waits for the resume, as one that finds the workspace in the archive does.
      if (state === "hibernating" || state === "hibernated") {
        throw new CommandRejected("unavailable", `workspace is ${state}: a runner connects once it has resumed`, entities.workspace, state);
      }
      const snap = tx.get(entities.agent(agent));
      if (!snap || stateString(snap.value) === "unregistered") throw new CommandRejected("unknown_agent", `no agent ${agent}`);
      const ctx = snap.context as AgentContext;
      if (ctx.connected) {
        tx.apply(entities.agent(agent), { type: "agent.disconnected", payload: { at: tx.now, generation: ctx.generation, reason: "replaced" } }, agent);
      }
      tx.apply(entities.agent(agent), { type: "agent.connected", payload: { at: tx.now, generation: ctx.generation + 1 } }, agent);
      touch(tx, "runner", this.touchGranularityMs);
      // Registered before the commit so that a prompt dispatched by this very transaction
      // (drain runs in it) finds its sink; if the append fails the workspace is dead anyway.
      this.watch(agent, { generation: ctx.generation + 1, sink, lastSeen: tx.now, timer: undefined });
      return ctx.generation + 1;
    });
    return this.connection(agent, generation);
  }

  /** Whether `generation` is the agent's live runner. */
  isCurrent(agent: string, generation: number): boolean {
    const ctx = this.engine.working.get(entities.agent(agent))?.context as AgentContext | undefined;
    return ctx?.connected === true && ctx.generation === generation;
  }

  private fence(agent: string, generation: number): void {
    if (!this.isCurrent(agent, generation)) {
      throw new CommandRejected("stale_runner", `runner generation ${generation} of ${agent} is no longer connected`, entities.agent(agent));
    }
  }

  private connection(agent: string, generation: number): RunnerConnection {
    const run = (body: Parameters<Engine["run"]>[0]) =>
      this.engine.run((tx) => {
        this.fence(agent, generation);
        return body(tx);
      }).then(() => undefined);
    return {
      agent,
      generation,
      heartbeat: () => {
        const live = this.live.get(agent);
        if (!live || live.generation !== generation) return;
        live.lastSeen = this.engine.now;
        this.onHeartbeat(agent, live.lastSeen);
      },
      activity: (activity) =>
        run((tx) => {
          tx.tryApply(entities.agent(agent), { type: "agent.activity_changed", payload: { at: tx.now, activity } }, agent);
          touch(tx, "runner", this.touchGranularityMs);
        }),
      tool: (promptId, { kind, file, summary }) =>
        run((tx) => {
          const payload = { at: tx.now, promptId, generation, kind, ...(file !== undefined ? { file } : {}), summary };
          tx.apply(entities.agent(agent), { type: "agent.tool_called", payload }, agent);
          touch(tx, "runner", this.touchGranularityMs);
        }),
      firstToken: (promptId) =>
        run((tx) => {
          tx.apply(entities.prompts(agent), { type: "prompt.first_token", payload: { at: tx.now, agent, promptId, generation } }, agent);
        }),
      complete: (promptId, r) =>
        run((tx) => {
          const usage = { tokensIn: r.tokensIn ?? 0, tokensOut: r.tokensOut ?? 0, cost: r.cost ?? 0 };
          tx.apply(entities.prompts(agent), { type: "prompt.completed", payload: { at: tx.now, agent, promptId, generation, result: r.result, ...usage } }, agent);
          tx.apply(entities.agent(agent), { type: "agent.work_finished", payload: { at: tx.now, promptId, outcome: "completed", ...usage } }, agent);
          touch(tx, "runner", this.touchGranularityMs);
        }),
      fail: (promptId, error) =>
        run((tx) => {
          tx.apply(entities.prompts(agent), { type: "prompt.failed", payload: { at: tx.now, agent, promptId, generation, error } }, agent);
          tx.apply(entities.agent(agent), { type: "agent.work_finished", payload: { at: tx.now, promptId, outcome: "failed", tokensIn: 0, tokensOut: 0, cost: 0 } }, agent);
        }),
      close: () =>
        run((tx) => {
          tx.apply(entities.agent(agent), { type: "agent.disconnected", payload: { at: tx.now, generation, reason: "closed" } }, agent);
        }),
    };
  }

  private watch(agent: string, live: Live): void {
    const previous = this.live.get(agent);
    if (previous) {
      previous.timer?.cancel();
      if (previous.generation !== live.generation) previous.sink?.close("replaced");
    }
    this.live.set(agent, live);
    this.armHeartbeat(agent, live);
  }

  private armHeartbeat(agent: string, live: Live): void {
    live.timer = this.engine.options.clock.setTimer(live.lastSeen + this.heartbeatTtlMs - this.engine.now, () => {
      if (this.live.get(agent) !== live) return;
      // Heartbeats only move lastSeen; the deadline is checked lazily here, so a steady
      // heartbeat costs no timer churn.
      if (this.engine.now < live.lastSeen + this.heartbeatTtlMs) return this.armHeartbeat(agent, live);
      void this.engine
        .run((tx) => {
          if (!this.isCurrent(agent, live.generation)) return;
          tx.apply(entities.agent(agent), { type: "agent.disconnected", payload: { at: tx.now, generation: live.generation, reason: "heartbeat_timeout" } }, agent);
        })
        .catch(() => undefined);
    });
  }

  private drop(agent: string, reason: string): void {
    const live = this.live.get(agent);
    if (!live) return;
    live.timer?.cancel();
    live.sink?.close(reason);
    this.live.delete(agent);
  }

  /** Connected runners (agent → generation), for tests and the gateway. */
  connected(): Map<string, number> {
    return new Map([...this.live].map(([a, l]) => [a, l.generation]));
  }

  stop(): void {
    for (const live of this.live.values()) live.timer?.cancel();
    this.live.clear();
  }
}
