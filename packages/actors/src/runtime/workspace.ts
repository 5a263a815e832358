import { cryptoRandom, joinPath, nodeStorage, systemClock, type Clock, type EventLog, type FsyncPolicy, type Random, type Storage, type VerifiedLog } from "@atelier/events";
import { Bus } from "../bus/bus.ts";
import { createCoordinator, type AgentCoordinator } from "../coordinator/coordinator.ts";
import {
  DEFAULT_WORKSPACE_CONFIG,
  HEARTBEAT_TTL_MS,
  entities,
  type AgentContext,
  type PromptQueueContext,
  type WorkspaceConfig,
  type WorldState,
} from "../machines/index.ts";
import { stateString, worldOf } from "../machines/world.ts";
import { agentCommands, contextCommands, promptCommands, taskCommands } from "./commands.ts";
import { Engine, type RecoveryReport } from "./engine.ts";
import { CommandRejected } from "./errors.ts";
import { folderSnapshotStore, type SnapshotStore } from "./hibernation.ts";
import { lockCommands } from "./locks.ts";
import { RunnerRegistry } from "./runners.ts";
import { encodeSnapshot, decodeSnapshot, snapshotNear } from "./snapshots.ts";
import type { Tx } from "./tx.ts";

export interface WorkspaceOptions {
  /** The workspace id every envelope carries. */
  readonly workspace: string;
  /** Name used when the log is empty and the workspace is created. */
  readonly name?: string;
  readonly config?: Partial<WorkspaceConfig>;
  readonly storage?: Storage;
  readonly clock?: Clock;
  readonly random?: Random;
  readonly fsync?: FsyncPolicy;
  /** Snapshot after this many events (default 1,000) and on close. */
  readonly snapshotEvery?: number;
  /** Default lock lease (default 60 s). */
  readonly leaseMs?: number;
  /** Queued prompts per agent before enqueue is refused (default 100). */
  readonly maxQueueDepth?: number;
  /** A runner silent this long is disconnected (001: 30 s). */
  readonly heartbeatTtlMs?: number;
  /** Activity moves the idle deadline at most this often (default 1 s). */
  readonly touchGranularityMs?: number;
  /** Where hibernation stores its snapshot (default: `<dir>/archive` on the same storage, so it is archived with the folder). */
  readonly snapshotStore?: SnapshotStore;
  /** What a restore just verified of the log (`LogOptions.verified`): not checked again on open. */
  readonly verifiedLog?: VerifiedLog | undefined;
  /** Awaited between log segments while the open checks the chain (`LogOptions.giveWay`). */
  readonly giveWay?: (() => Promise<void>) | undefined;
}

/** Queued prompts per agent before enqueue is refused, unless `WorkspaceOptions.maxQueueDepth` says otherwise. */
export const DEFAULT_MAX_QUEUE_DEPTH = 100;

const disconnectAll = (tx: Tx) => {
  for (const entity of [...tx.entitiesOf("agent")]) {
    const ctx = tx.get(entity)!.context as AgentContext;
    if (!ctx.connected) continue;
    tx.apply(entity, { type: "agent.disconnected", payload: { at: tx.now, generation: ctx.generation, reason: "workspace_stopped" } }, ctx.agentId);
  }
};

/**
 * Opens (creating when empty) the workspace in folder `dir`: recovers its actors from the latest
 * snapshot plus the log's tail, re-arms their timers, and returns the command surface.
 */
export async function openWorkspace(dir: string, options: WorkspaceOptions) {
  const storage = options.storage ?? nodeStorage();
  const clock = options.clock ?? systemClock;
  const random = options.random ?? cryptoRandom();
  const touchGranularityMs = options.touchGranularityMs ?? 1000;
  const engine = await Engine.open(dir, {
    workspace: options.workspace,
    storage,
    clock,
    random,
    fsync: options.fsync ?? "batch",
    snapshotEvery: options.snapshotEvery ?? 1000,
    touchGranularityMs,
    verifiedLog: options.verifiedLog,
    giveWay: options.giveWay,
  });
  const snapshotStore = options.snapshotStore ?? folderSnapshotStore(storage, joinPath(dir, "archive"));
  const bus = new Bus(engine, random);
  const runners = new RunnerRegistry(engine, options.heartbeatTtlMs ?? HEARTBEAT_TTL_MS, touchGranularityMs, (agent, at) =>
    bus.emit("heartbeat", { agent, at }),
  );
  runners.adoptRecovered();
  const locks = lockCommands(engine, { leaseMs: options.leaseMs ?? 60_000, touchGranularityMs });
  const agents = agentCommands(engine);
  const prompts = promptCommands(engine, random, { maxQueueDepth: options.maxQueueDepth ?? DEFAULT_MAX_QUEUE_DEPTH, touchGranularityMs });
  const tasks = taskCommands(engine, random);
  const context = contextCommands(engine);

  const wsEvent = (type: string, extra: Record<string, unknown> = {}) => (tx: Tx) =>
    void tx.apply(entities.workspace, { type, payload: { at: tx.now, ...extra } } as never);
  const run = (body: (tx: Tx) => void) => engine.run(body).then(() => undefined);
  const fail = (message: string) => run((tx) => void tx.tryApply(entities.workspace, { type: "workspace.failed", payload: { at: tx.now, message } }));

  /** Hibernation (004): stop runners, put the snapshot in the snapshot store, then record it (the host then archives the closed folder). */
  const hibernate = async () => {
    try {
      await run(disconnectAll);
      await engine.settled();
      const world = worldOf(engine.head, engine.committed);
      const ref = `${options.workspace}/snapshots/${world.seq}.json`;
      await snapshotStore.put(ref, encodeSnapshot({ format: 1, workspace: options.workspace, hash: engine.log.headHash(), world }));
      await run(wsEvent("workspace.hibernated", { snapshotRef: ref, seq: world.seq }));
    } catch (error) {
      if (!engine.failed) await fail(`hibernation failed: ${error instanceof Error ? error.message : String(error)}`).catch(() => undefined); // closed meanwhile: nothing left to record
    }
  };
  /** Resume: the archived snapshot must be readable and must be a prefix of this log (it wins). */
  const resume = async () => {
    try {
      const ref = (engine.committed.get(entities.workspace)?.context as { snapshotRef: string | null }).snapshotRef ?? "";
      const bytes = await snapshotStore.get(ref);
      const file = bytes && decodeSnapshot(bytes);
      if (!file || file.world.seq > engine.head) throw new Error(`archived snapshot ${ref} is missing or unreadable`);
      await run(wsEvent("workspace.resumed", { snapshotRef: ref }));
    } catch (error) {
      if (!engine.failed) await fail(`resume failed: ${error instanceof Error ? error.message : String(error)}`).catch(() => undefined); // closed meanwhile: nothing left to record
    }
  };
  /** Teardown: every runner off and every open prompt cancelled, then `workspace.terminated`. Safe to repeat. */
  const terminate = async () => {
    try {
      await run((tx) => {
        disconnectAll(tx);
        prompts.cancelAll(tx);
      });
      await run(wsEvent("workspace.terminated"));
    } catch {
      // The log failed or the workspace closed meanwhile: the next open finds it terminating and
      // tears down again (below). Thrown on, it would end the process as an unhandled rejection.
    }
  };
  engine.onCommitted(({ effects }) => {
    for (const fx of effects) {
      if (fx.type === "workspace.hibernate") void hibernate();
      if (fx.type === "workspace.resume") void resume();
      if (fx.type === "workspace.terminate") void terminate();
    }
  });

  if (!engine.working.has(entities.workspace)) {
    await run((tx) => {
      const config = { ...DEFAULT_WORKSPACE_CONFIG, ...options.config };
      wsEvent("workspace.created", { workspaceId: options.workspace, name: options.name ?? options.workspace, config })(tx);
      wsEvent("workspace.activated")(tx);
    });
  }
  // ADR 0001: a crash may keep a prefix of a transaction, e.g. `prompt.started` without the
  // `agent.work_started` beside it, or an agent's disconnect without its `prompt.requeued`. A
  // prompt its queue calls processing while the agent is not working on it would wait forever:
  // put it back in the queue (dispatch then runs as usual).
  await run((tx) => {
    for (const entity of [...tx.entitiesOf("prompts")]) {
      const q = tx.get(entity)!.context as PromptQueueContext;
      const agent = tx.get(entities.agent(q.agent))?.context as AgentContext | undefined;
      if (q.processing === null || agent?.promptId === q.processing) continue;
      tx.apply(entity, { type: "prompt.requeued", payload: { at: tx.now, agent: q.agent, promptId: q.processing, reason: "runner_disconnected" } }, q.agent);
    }
  });
  // A crash while hibernating, resuming or terminating took the running effect with it, and the
  // recovered state still says it is under way: nothing would ever finish it. Run it again (each
  // ends by appending its event, and each is safe to repeat).
  const interrupted = stateString(engine.committed.get(entities.workspace)!.value);
  if (interrupted === "hibernating") void hibernate();
  else if (interrupted === "resuming") void resume();
  else if (interrupted === "terminating") void terminate();

  const workspace = {
    id: options.workspace,
    log: engine.log as EventLog,
    recovery: engine.recovery as RecoveryReport,
    /** The committed (durable) state of every actor. */
    state: (): WorldState => worldOf(engine.head, engine.committed),
    /**
     * A stored world state from which history reaching back to `at` can be read: the newest
     * snapshot at or before it, else the oldest one kept (see `snapshotNear`).
     */
    snapshotNear: (at: number): WorldState | undefined => snapshotNear(storage, dir, engine.log as EventLog, at)?.world,
    /** One actor's committed state and context. */
    actor: <C = unknown>(entity: string): { state: string; context: C } | undefined => {
      const snap = engine.committed.get(entity);
      return snap ? { state: stateString(snap.value), context: snap.context as C } : undefined;
    },
    status: () => workspace.actor(entities.workspace)?.state ?? "uncreated",
    lifecycle: {
      touch: () => run((tx) => void tx.tryApply(entities.workspace, { type: "workspace.touched", payload: { at: tx.now, reason: "user" } })),
      renew: () => run(wsEvent("workspace.renewed")),
      hibernate: (by: string) => run(wsEvent("workspace.hibernate_requested", { by })),
      resume: () => run(wsEvent("workspace.resume_requested", { reason: "user" })),
      terminate: (by: string) => run(wsEvent("workspace.terminate_requested", { by })),
      fail,
      restart: (by: string) => run(wsEvent("workspace.restarted", { by })),
    },
    agents,
    runners: {
      connect: runners.connect.bind(runners),
      connected: () => runners.connected(),
      /** Whether `generation` is `agent`'s live runner: a request naming only the agent is fenced with it. */
      isCurrent: runners.isCurrent.bind(runners),
    },
    prompts,
    locks,
    tasks,
    context,
    bus,
    /** Armed deadlines (entity, key), for tests and the simulator. */
    timers: () => engine.armedTimers(),
    /** Resolves once every accepted command is durable. */
    settled: () => engine.settled(),
    /** The log's failure, if it failed: every command is refused until the workspace is reopened. */
    failed: (): Error | undefined => engine.failed,
    /** Calls `listener` when the log fails (a full disk, an I/O error); returns the unsubscribe. */
    onFailed: (listener: (error: Error) => void) => engine.onFailed(listener),
    snapshot: () => engine.snapshot(),
    close: async () => {
      runners.stop();
      await engine.close();
    },
    coordinator: undefined as unknown as AgentCoordinator,
  };
  workspace.coordinator = createCoordinator(workspace);
  return workspace;
}

export type Workspace = Awaited<ReturnType<typeof openWorkspace>>;
export { CommandRejected };
