import type { Bus, BusMessage, Unsubscribe } from "../bus/bus.ts";
import type { LockMode } from "../machines/index.ts";
import type { contextCommands, taskCommands } from "../runtime/commands.ts";
import type { AcquireOptions, LockCommands } from "../runtime/locks.ts";

/** A step of a plan: one agent edits one file. */
export interface PlanTask {
  readonly file: string;
  readonly agent: string;
  readonly description: string;
}
export interface Plan {
  readonly tasks: readonly PlanTask[];
}

/** The facade of 000 §3.6 that agents use to coordinate inside a workspace. */
export interface AgentCoordinator {
  readonly taskQueue: ReturnType<typeof taskCommands>;
  readonly lockManager: {
    /** true when granted; false when busy (or, with `wait`, when the wait ended without a grant). */
    acquire(file: string, agent: string, type: LockMode, options?: AcquireOptions): Promise<boolean>;
    release(file: string, agent: string): Promise<void>;
    query(file: string): { locked: boolean; by?: string; type?: LockMode };
  };
  readonly messageBus: {
    /** Publishes `payload` durably on the channel named `event` (sender: payload.agent). */
    emit(event: string, payload: Record<string, unknown>): Promise<BusMessage>;
    /** Receives each later message of `event`'s channel. */
    on(event: string, handler: (payload: unknown, message: BusMessage) => void): Unsubscribe;
    readonly bus: Bus;
  };
  readonly sharedContext: ReturnType<typeof contextCommands>;
  /** Merges plans: one task per file, the earliest plan's claim on a file wins. */
  mergePlans(plans: readonly Plan[]): Plan;
}

export interface CoordinatorDeps {
  readonly locks: LockCommands;
  readonly tasks: ReturnType<typeof taskCommands>;
  readonly context: ReturnType<typeof contextCommands>;
  readonly bus: Bus;
}

export const createCoordinator = ({ locks, tasks, context, bus }: CoordinatorDeps): AgentCoordinator => ({
  taskQueue: tasks,
  lockManager: {
    acquire: async (file, agent, type, options) => (await locks.acquire(file, agent, type, options)).granted,
    release: (file, agent) => locks.release(file, agent),
    query: (file) => {
      const q = locks.query(file);
      return { locked: q.locked, ...(q.by !== undefined ? { by: q.by, type: q.type! } : {}) };
    },
  },
  messageBus: {
    emit: (event, payload) => bus.publish(event, payload, { sender: typeof payload.agent === "string" ? payload.agent : "coordinator" }),
    on: (event, handler) => bus.subscribe(event, (m) => handler(m.body, m)),
    bus,
  },
  sharedContext: context,
  mergePlans: (plans) => {
    const byFile = new Map<string, PlanTask>();
    for (const plan of plans) for (const task of plan.tasks) if (!byFile.has(task.file)) byFile.set(task.file, task);
    return { tasks: [...byFile.values()] };
  },
});
