/**
 * Random, valid workspace histories: every event is proposed from the actors' current snapshots
 * and kept only when its machine accepts it (`step` of @atelier/actors/machines), with the
 * runtime's follow-ups (lock grants, timers, requeues on disconnect) appended as the runtime would.
 */
import type { AppendInput, Random } from "@atelier/events";
import { chance, nextInt, pick, seededRandom } from "@atelier/events";
import {
  type ActorSnapshot,
  type AgentContext,
  type AtelierEvent,
  entities,
  fromPlain,
  type LockContext,
  type LockGrantsEffect,
  machineFor,
  type PromptQueueContext,
  step,
  type TaskQueueContext,
  toPlain,
  type WorkspaceContext,
  type WorldState,
} from "@atelier/actors/machines";

const VENDORS = ["claude", "gemini", "kimi", "codex"] as const;
const ACTIVITIES = ["analyzing", "editing", "indexing", "waiting"] as const;
const TOOLS = ["edit", "read", "run", "search", "lock"] as const;
const CHANNELS = ["state", "file_conflict", "task_broadcast"] as const;
const WORDS = ["refactor", "auth", "module", "tests", "index", "routes", "schema", "cache", "retry", "docs", "lint"];

export interface WorkloadOptions {
  readonly seed: number;
  readonly agents?: number;
  readonly paths?: number;
  /** Continue an existing history: the actors' replayed state and the time of its last event. */
  readonly resume?: { readonly world: WorldState; readonly now: number };
}

export class Workload {
  private readonly random: Random;
  private readonly snapshots = new Map<string, ActorSnapshot>();
  private readonly out: AppendInput[] = [];
  private readonly agents: string[];
  private readonly paths: string[];
  private readonly idPrefix: string;
  private readonly leases = new Map<string, number>();
  private nextLease = Number.POSITIVE_INFINITY;
  private counter = 0;
  /** The virtual time of the next event (epoch ms); a log's clock should read it. */
  now = Date.UTC(2026, 10, 23, 9, 0, 0);

  constructor(options: WorkloadOptions) {
    this.random = seededRandom(options.seed);
    this.idPrefix = options.resume ? `${options.seed.toString(36)}.` : "";
    this.agents = Array.from({ length: options.agents ?? 4 }, (_, i) => `${VENDORS[i % VENDORS.length]}-${i}`);
    this.paths = Array.from({ length: options.paths ?? 40 }, (_, i) => `src/${pick(this.random, WORDS)}/${WORDS[i % WORDS.length]}-${i}.ts`);
    if (options.resume) {
      for (const [entity, plain] of Object.entries(options.resume.world.actors)) this.snapshots.set(entity, fromPlain(entity, plain));
      this.paths = [...this.snapshots.keys()].filter((e) => e.startsWith("lock:")).map((e) => e.slice(5));
      for (const path of this.paths) this.noteLeases(entities.lock(path));
      this.now = options.resume.now;
    }
  }

  /** At least `min` more accepted events (a step may add a few follow-ups). */
  take(min: number): AppendInput[] {
    while (this.out.length < min) this.step();
    return this.out.splice(0);
  }

  /** The actors' state after the events taken so far, to resume from with `resume` (seq is the log's head). */
  world(seq: number): WorldState {
    return { seq, actors: Object.fromEntries([...this.snapshots].map(([entity, snapshot]) => [entity, toPlain(snapshot)])) };
  }

  /** Ends the history: the workspace reaches its maximum lifetime or is terminated. */
  finale(): AppendInput[] {
    const ws = this.ctx<WorkspaceContext>(entities.workspace);
    if (ws?.maxDeadline != null && chance(this.random, 0.5)) {
      this.now = Math.max(this.now, ws.maxDeadline);
      this.offer(entities.workspace, { type: "workspace.max_lifetime_reached", payload: { at: this.now } });
    } else this.offer(entities.workspace, { type: "workspace.terminate_requested", payload: { at: this.now, by: "owner" } });
    this.offer(entities.workspace, { type: "workspace.terminated", payload: { at: this.now } });
    return this.out.splice(0);
  }

  private ctx<C>(entity: string): C | undefined {
    return this.snapshots.get(entity)?.context as C | undefined;
  }

  private state(entity: string): string {
    const value = this.snapshots.get(entity)?.value;
    return value === undefined ? "" : typeof value === "string" ? value : Object.keys(value)[0]!;
  }

  /** Appends `event` if its machine accepts it (bus channels are not actors), then the lock grants it caused. */
  private offer(entity: string, event: AtelierEvent, agent?: string): boolean {
    const tag = agent ? { agent } : {};
    if (machineFor(entity) === undefined) {
      this.out.push({ type: event.type, entity, payload: event.payload, ...tag });
      return true;
    }
    const result = step(entity, this.snapshots.get(entity), event);
    if (!result.accepted) return false;
    this.snapshots.set(entity, result.after);
    if (event.type.startsWith("lock.")) this.noteLeases(entity);
    this.out.push({ type: event.type, entity, payload: event.payload, from: result.from, to: result.to, ...tag });
    for (const effect of result.effects) if (effect.type === "lock.grants") this.grant(effect as LockGrantsEffect);
    return true;
  }

  /** Keeps the earliest lease end per path, so timers need not scan every lock each step. */
  private noteLeases(entity: string): void {
    const lock = this.ctx<LockContext>(entity)!;
    if (lock.holders.length === 0) return void this.leases.delete(lock.path);
    const lease = Math.min(...lock.holders.map((h) => h.expiresAt));
    this.leases.set(lock.path, lease);
    this.nextLease = Math.min(this.nextLease, lease);
  }

  private grant(effect: LockGrantsEffect): void {
    for (const w of effect.grants) {
      const lock = this.ctx<LockContext>(entities.lock(effect.path))!;
      this.offer(entities.lock(effect.path), {
        type: "lock.acquired",
        payload: { at: this.now, path: effect.path, agent: w.agent, mode: w.mode, token: lock.lastToken + 1, expiresAt: this.now + w.leaseMs },
      }, w.agent);
    }
  }

  private id(prefix: string): string {
    return `${prefix}${this.idPrefix}${(++this.counter).toString(36)}`;
  }

  private text(words: number): string {
    return Array.from({ length: words }, () => pick(this.random, WORDS)).join(" ");
  }

  private step(): void {
    this.now += nextInt(this.random, 1, 400);
    const ws = this.state(entities.workspace);
    if (ws === "") return void this.create();
    if (ws === "creating") return void this.offer(entities.workspace, { type: "workspace.activated", payload: { at: this.now } });
    if (this.fireTimers()) return;
    if (ws !== "active" && ws !== "idle") return this.dormant(ws);
    if (ws === "idle" && chance(this.random, 0.05)) return void (this.now += 1_810_000); // nobody comes back: it hibernates
    const roll = nextInt(this.random, 0, 99);
    if (roll < 6) this.offer(entities.workspace, { type: "workspace.touched", payload: { at: this.now, reason: pick(this.random, ["prompt", "runner", "lock", "user"] as const) } });
    else if (roll < 8) this.lifecycle();
    else if (roll < 29) this.agentStep(pick(this.random, this.agents));
    else if (roll < 32) this.enqueuePrompt();
    else if (roll < 62) this.lockStep(pick(this.random, this.agents), pick(this.random, this.paths));
    else if (roll < 66) this.taskStep();
    else if (roll < 78) this.contextStep();
    else this.publish();
  }

  private create(): void {
    this.offer(entities.workspace, {
      type: "workspace.created",
      payload: { at: this.now, workspaceId: "ws_test", name: "Test workspace", config: { idleTimeoutMs: 300_000, hibernateAfterMs: 1_800_000, lifetimeMs: 28_800_000, maxLifetimeMs: 86_400_000 } },
    });
    for (const agentId of this.agents) {
      const vendor = VENDORS[this.agents.indexOf(agentId) % VENDORS.length]!;
      this.offer(entities.agent(agentId), { type: "agent.registered", payload: { at: this.now, agentId, vendor, model: `${vendor}-model-1`, focusPrompt: this.text(6) } }, agentId);
    }
  }

  /** Deadlines the runtime's timers would fire: workspace lifetime and idleness, lock leases. */
  private fireTimers(): boolean {
    const ws = this.ctx<WorkspaceContext>(entities.workspace)!;
    const at = { at: this.now };
    if (ws.lifetimeDeadline !== null && this.now >= ws.lifetimeDeadline) return this.hibernate({ type: "workspace.lifetime_expired", payload: at });
    if (ws.idleDeadline !== null && this.now >= ws.idleDeadline) return this.offer(entities.workspace, { type: "workspace.idle_timeout", payload: at });
    if (ws.hibernateDeadline !== null && this.now >= ws.hibernateDeadline) return this.hibernate({ type: "workspace.hibernate_timeout", payload: at });
    if (this.now < this.nextLease) return false;
    this.nextLease = Number.POSITIVE_INFINITY;
    for (const [path, lease] of this.leases) {
      if (lease > this.now) this.nextLease = Math.min(this.nextLease, lease);
      else {
        const expired = this.ctx<LockContext>(entities.lock(path))!.holders.find((h) => h.expiresAt <= this.now)!;
        this.nextLease = this.now; // more may be due: scan again next step
        return this.offer(entities.lock(path), { type: "lock.lease_expired", payload: { at: this.now, path, agent: expired.agent, token: expired.token } }, expired.agent);
      }
    }
    return false;
  }

  private lifecycle(): void {
    const at = this.now;
    const ws = this.ctx<WorkspaceContext>(entities.workspace)!;
    const roll = nextInt(this.random, 0, 9);
    if (roll < 4) this.offer(entities.workspace, { type: "workspace.renewed", payload: { at } });
    // Quiet stretches: the idle, hibernation or lifetime timer fires on the next step.
    else if (roll < 5) this.now += 310_000;
    else if (roll < 6) this.now += 1_810_000;
    else if (roll < 7) this.now = Math.max(this.now, ws.lifetimeDeadline ?? 0);
    else if (roll < 8) this.hibernate({ type: "workspace.hibernate_requested", payload: { at, by: "owner" } });
    else if (roll < 9 && this.offer(entities.workspace, { type: "workspace.failed", payload: { at, message: "object store unavailable" } })) {
      this.offer(entities.workspace, { type: "workspace.restarted", payload: { at, by: "owner" } });
    } else this.offer(entities.workspace, { type: "workspace.touched", payload: { at, reason: "user" } });
  }

  /** Stops the workspace: runners go away (prompts requeued, locks freed), the snapshot is stored. */
  private hibernate(trigger: AtelierEvent): boolean {
    if (!this.offer(entities.workspace, trigger)) return false;
    for (const agent of this.agents) this.disconnect(agent, "workspace_stopped");
    this.offer(entities.workspace, { type: "workspace.hibernated", payload: { at: this.now, snapshotRef: this.id("snap_"), seq: this.counter } });
    return true;
  }

  /** Hibernated (or on the way): a prompt may arrive and wake it. */
  private dormant(ws: string): void {
    if (ws === "hibernated" && chance(this.random, 0.3)) {
      this.enqueuePrompt();
      this.offer(entities.workspace, { type: "workspace.resume_requested", payload: { at: this.now, reason: "prompt" } });
    } else if (ws === "resuming") this.offer(entities.workspace, { type: "workspace.resumed", payload: { at: this.now, snapshotRef: this.id("snap_") } });
  }

  private agentStep(agentId: string): void {
    const entity = entities.agent(agentId);
    const agent = this.ctx<AgentContext>(entity)!;
    const state = this.state(entity);
    const at = this.now;
    if (state === "offline") {
      this.offer(entity, { type: "agent.connected", payload: { at, generation: agent.generation + 1 } }, agentId);
    } else if (state === "idle") {
      if (chance(this.random, 0.02)) this.disconnect(agentId, "closed");
      else if (chance(this.random, 0.03)) this.fail(agentId);
      else if (chance(this.random, 0.05)) this.offer(entity, { type: "agent.configured", payload: { at, focusPrompt: this.text(5) } }, agentId);
      else this.startPrompt(agentId);
    } else if (state === "busy") {
      const roll = nextInt(this.random, 0, 99);
      if (roll < 30) this.offer(entity, { type: "agent.activity_changed", payload: { at, activity: pick(this.random, ACTIVITIES) } }, agentId);
      else if (roll < 45) this.toolCall(agentId, agent);
      else if (roll < 55) this.firstToken(agentId);
      else if (roll < 90) this.finishPrompt(agentId);
      else if (roll < 95) this.disconnect(agentId, pick(this.random, ["closed", "heartbeat_timeout", "replaced"] as const));
      else this.fail(agentId);
    } else if (state === "error") {
      this.offer(entity, { type: "agent.restarted", payload: { at } }, agentId);
    }
  }

  private startPrompt(agent: string): void {
    const queue = this.ctx<PromptQueueContext>(entities.prompts(agent));
    const head = queue?.queued[0];
    const generation = this.ctx<AgentContext>(entities.agent(agent))!.generation;
    if (!queue || head === undefined || queue.processing !== null) return;
    const attempt = queue.prompts[head]!.attempt + 1;
    this.offer(entities.prompts(agent), { type: "prompt.started", payload: { at: this.now, agent, promptId: head, attempt, generation } }, agent);
    this.offer(entities.agent(agent), { type: "agent.work_started", payload: { at: this.now, promptId: head } }, agent);
  }

  /** A tool call of the busy agent's runner; every kind but `run` names a file. */
  private toolCall(agentId: string, agent: AgentContext): void {
    const kind = pick(this.random, TOOLS);
    const file = kind === "run" ? {} : { file: pick(this.random, this.paths) };
    const payload = { at: this.now, promptId: agent.promptId!, generation: agent.generation, kind, ...file, summary: this.text(3) };
    this.offer(entities.agent(agentId), { type: "agent.tool_called", payload }, agentId);
  }

  /** The first token of the processing prompt (refused, so not written, after the attempt's first). */
  private firstToken(agent: string): void {
    const queue = this.ctx<PromptQueueContext>(entities.prompts(agent));
    const promptId = queue?.processing;
    if (!queue || !promptId) return;
    const generation = queue.prompts[promptId]!.generation!;
    this.offer(entities.prompts(agent), { type: "prompt.first_token", payload: { at: this.now, agent, promptId, generation } }, agent);
  }

  private finishPrompt(agent: string): void {
    const queue = this.ctx<PromptQueueContext>(entities.prompts(agent));
    const promptId = queue?.processing;
    if (!queue || !promptId) return;
    const generation = queue.prompts[promptId]!.generation!;
    const at = this.now;
    const tokensIn = nextInt(this.random, 100, 4000);
    const tokensOut = nextInt(this.random, 50, 2000);
    const cost = Math.round((tokensIn * 3 + tokensOut * 15) / 10) / 100_000;
    const roll = nextInt(this.random, 0, 9);
    const outcome = roll < 7 ? "completed" : roll < 9 ? "failed" : "cancelled";
    const entity = entities.prompts(agent);
    if (outcome === "completed") {
      this.offer(entity, { type: "prompt.completed", payload: { at, agent, promptId, generation, result: this.text(12), tokensIn, tokensOut, cost } }, agent);
    } else if (outcome === "failed") {
      this.offer(entity, { type: "prompt.failed", payload: { at, agent, promptId, generation, error: "runner error" } }, agent);
    } else this.offer(entity, { type: "prompt.cancelled", payload: { at, agent, promptId, reason: "interrupted" } }, agent);
    this.offer(entities.agent(agent), { type: "agent.work_finished", payload: { at, promptId, outcome, tokensIn, tokensOut, cost } }, agent);
  }

  /** The runner goes away: its prompt goes back to the queue, its locks and waits are dropped. */
  private disconnect(agent: string, reason: "closed" | "replaced" | "heartbeat_timeout" | "workspace_stopped"): void {
    const generation = this.ctx<AgentContext>(entities.agent(agent))!.generation;
    if (!this.offer(entities.agent(agent), { type: "agent.disconnected", payload: { at: this.now, generation, reason } }, agent)) return;
    this.relinquish(agent, "runner_disconnected");
  }

  private fail(agent: string): void {
    if (this.offer(entities.agent(agent), { type: "agent.failed", payload: { at: this.now, message: "runner crashed" } }, agent)) {
      this.relinquish(agent, "agent_failed");
    }
  }

  private relinquish(agent: string, reason: "runner_disconnected" | "agent_failed"): void {
    const processing = this.ctx<PromptQueueContext>(entities.prompts(agent))?.processing;
    if (processing) this.offer(entities.prompts(agent), { type: "prompt.requeued", payload: { at: this.now, agent, promptId: processing, reason } }, agent);
    for (const path of this.paths) {
      const lock = this.ctx<LockContext>(entities.lock(path));
      const held = lock?.holders.find((h) => h.agent === agent);
      if (held) this.offer(entities.lock(path), { type: "lock.released", payload: { at: this.now, path, agent, token: held.token, reason: "holder_offline" } }, agent);
      if (lock?.waiters.some((w) => w.agent === agent)) {
        this.offer(entities.lock(path), { type: "lock.wait_cancelled", payload: { at: this.now, path, agent, reason: "holder_offline" } }, agent);
      }
    }
  }

  private enqueuePrompt(): void {
    const agent = pick(this.random, this.agents);
    const promptId = this.id("pr_");
    const priority = chance(this.random, 0.2) ? nextInt(this.random, 1, 3) : 0;
    const clientRequestId = chance(this.random, 0.5) ? this.id("req_") : null;
    const entity = entities.prompts(agent);
    this.offer(entity, { type: "prompt.enqueued", payload: { at: this.now, agent, promptId, clientRequestId, text: this.text(10), priority, author: "user-1" } }, agent);
    const queued = this.ctx<PromptQueueContext>(entity)!.queued;
    if (queued.length > 3 && chance(this.random, 0.2)) {
      this.offer(entity, { type: "prompt.cancelled", payload: { at: this.now, agent, promptId: pick(this.random, queued), reason: "user" } }, agent);
    }
  }

  private lockStep(agent: string, path: string): void {
    const entity = entities.lock(path);
    const lock = this.ctx<LockContext>(entity);
    const at = this.now;
    const held = lock?.holders.find((h) => h.agent === agent);
    const waiting = lock?.waiters.some((w) => w.agent === agent);
    const roll = nextInt(this.random, 0, 9);
    if (held && roll < 6) {
      this.offer(entity, { type: "lock.released", payload: { at, path, agent, token: held.token, reason: "released" } }, agent);
    } else if (held && roll < 8) {
      this.offer(entity, { type: "lock.renewed", payload: { at, path, agent, token: held.token, expiresAt: at + 60_000 } }, agent);
    } else if (waiting && roll < 3) {
      this.offer(entity, { type: "lock.wait_cancelled", payload: { at, path, agent, reason: "gave_up" } }, agent);
    } else if (!waiting) {
      const mode = chance(this.random, 0.6) ? "exclusive" : "shared";
      const token = (lock?.lastToken ?? 0) + 1;
      if (!this.offer(entity, { type: "lock.acquired", payload: { at, path, agent, mode, token, expiresAt: at + 60_000 } }, agent)) {
        this.offer(entity, { type: "lock.queued", payload: { at, path, agent, mode, leaseMs: 60_000 } }, agent);
      }
    }
  }

  private taskStep(): void {
    const open = Object.values(this.ctx<TaskQueueContext>(entities.tasks)?.tasks ?? {});
    const at = this.now;
    const task = open.length > 0 && chance(this.random, 0.7) ? pick(this.random, open) : undefined;
    if (task === undefined) {
      const assignee = chance(this.random, 0.3) ? pick(this.random, this.agents) : null;
      const taskId = this.id("task_");
      this.offer(entities.tasks, {
        type: "task.enqueued",
        payload: { at, taskId, title: this.text(4), priority: nextInt(this.random, 0, 3), assignee, data: { files: [pick(this.random, this.paths)] }, by: "coordinator" },
      });
    } else if (task.status === "pending") {
      this.offer(entities.tasks, { type: "task.claimed", payload: { at, taskId: task.taskId, agent: task.assignee ?? pick(this.random, this.agents) } }, task.assignee ?? undefined);
    } else {
      const agent = task.claimedBy!;
      const roll = nextInt(this.random, 0, 9);
      if (roll < 6) this.offer(entities.tasks, { type: "task.completed", payload: { at, taskId: task.taskId, agent, result: { ok: true, lines: nextInt(this.random, 1, 200) } } }, agent);
      else if (roll < 8) this.offer(entities.tasks, { type: "task.failed", payload: { at, taskId: task.taskId, agent, error: "tests failed" } }, agent);
      else this.offer(entities.tasks, { type: "task.released", payload: { at, taskId: task.taskId, agent, reason: "gave_up" } }, agent);
    }
  }

  private contextStep(): void {
    const key = `ctx.${pick(this.random, WORDS)}`;
    const by = pick(this.random, this.agents);
    if (chance(this.random, 0.2)) this.offer(entities.context, { type: "context.deleted", payload: { at: this.now, key, deletedBy: by } }, by);
    else this.offer(entities.context, { type: "context.updated", payload: { at: this.now, key, value: { note: this.text(5), n: this.counter }, updatedBy: by } }, by);
  }

  private publish(): void {
    const channel = pick(this.random, CHANNELS);
    const sender = pick(this.random, this.agents);
    this.offer(entities.channel(channel), {
      type: "bus.published",
      payload: { at: this.now, channel, messageId: this.id("msg_"), sender, body: { file: pick(this.random, this.paths), note: this.text(4) }, ttlMs: 60_000 },
    }, sender);
  }
}
