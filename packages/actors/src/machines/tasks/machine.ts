import { assign, setup } from "xstate";
import type { Ev } from "../events.ts";

export type TaskStatus = "pending" | "claimed" | "completed" | "failed";

export interface Task {
  readonly taskId: string;
  readonly title: string;
  readonly priority: number;
  readonly assignee: string | null;
  readonly data: unknown;
  readonly createdBy: string;
  readonly index: number;
  readonly status: TaskStatus;
  readonly claimedBy: string | null;
  readonly result: unknown;
  readonly error: string | null;
  readonly updatedAt: number;
}

export interface TaskQueueContext {
  readonly nextIndex: number;
  /** Open tasks (pending or claimed) by id. Finished ones move to `finished`. */
  readonly tasks: Readonly<Record<string, Task>>;
  /**
   * Finished tasks, oldest first; only the last RETAINED_FINISHED_TASKS are kept. Kept apart from
   * `tasks` so that each transition copies only the open tasks, not the history.
   */
  readonly finished: readonly Task[];
}

/** How many finished tasks the queue remembers (for lookups and refusing a reused task id). */
export const RETAINED_FINISHED_TASKS = 500;

export type TaskEvent = Ev<"task.enqueued" | "task.claimed" | "task.released" | "task.completed" | "task.failed">;

/** Pending tasks in claim order: priority descending, then enqueue order. */
export const pendingTasks = (ctx: TaskQueueContext): Task[] =>
  Object.values(ctx.tasks)
    .filter((t) => t.status === "pending")
    .sort((a, b) => b.priority - a.priority || a.index - b.index);

/** A task the queue still knows, open or among the retained finished ones. */
export const findTask = (ctx: TaskQueueContext, taskId: string): Task | undefined =>
  ctx.tasks[taskId] ?? ctx.finished.findLast((t) => t.taskId === taskId);

const task = (ctx: TaskQueueContext, id: string) => ctx.tasks[id];
const update = (ctx: TaskQueueContext, id: string, patch: Partial<Task>) => ({
  tasks: { ...ctx.tasks, [id]: { ...ctx.tasks[id]!, ...patch } },
});

/** Moves a task to `finished` with its outcome, forgetting the oldest past the retention. */
const finish = (ctx: TaskQueueContext, id: string, patch: Partial<Task>): Partial<TaskQueueContext> => {
  const { [id]: open, ...tasks } = ctx.tasks;
  const finished = [...ctx.finished, { ...open!, ...patch }];
  return { tasks, finished: finished.length > RETAINED_FINISHED_TASKS ? finished.slice(finished.length - RETAINED_FINISHED_TASKS) : finished };
};

/** The coordinator's shared priority task queue (000 §3.6); one per workspace, always ready. */
export const taskQueueMachine = setup({
  types: { context: {} as TaskQueueContext, events: {} as TaskEvent },
  guards: {
    isNew: ({ context, event }) => event.type === "task.enqueued" && findTask(context, event.payload.taskId) === undefined,
    claimable: ({ context, event }) => {
      if (event.type !== "task.claimed") return false;
      const t = task(context, event.payload.taskId);
      return t?.status === "pending" && (t.assignee === null || t.assignee === event.payload.agent);
    },
    claimedBySender: ({ context, event }) =>
      (event.type === "task.released" || event.type === "task.completed" || event.type === "task.failed") &&
      task(context, event.payload.taskId)?.status === "claimed" &&
      task(context, event.payload.taskId)?.claimedBy === event.payload.agent,
  },
  actions: {
    add: assign(({ context, event }) => {
      if (event.type !== "task.enqueued") return {};
      const p = event.payload;
      const t: Task = {
        taskId: p.taskId,
        title: p.title,
        priority: p.priority,
        assignee: p.assignee,
        data: p.data,
        createdBy: p.by,
        index: context.nextIndex,
        status: "pending",
        claimedBy: null,
        result: null,
        error: null,
        updatedAt: p.at,
      };
      return { nextIndex: context.nextIndex + 1, tasks: { ...context.tasks, [p.taskId]: t } };
    }),
    claim: assign(({ context, event }) =>
      event.type === "task.claimed" ? update(context, event.payload.taskId, { status: "claimed", claimedBy: event.payload.agent, updatedAt: event.payload.at }) : {},
    ),
    release: assign(({ context, event }) =>
      event.type === "task.released" ? update(context, event.payload.taskId, { status: "pending", claimedBy: null, updatedAt: event.payload.at }) : {},
    ),
    complete: assign(({ context, event }) =>
      event.type === "task.completed" ? finish(context, event.payload.taskId, { status: "completed", result: event.payload.result, updatedAt: event.payload.at }) : {},
    ),
    fail: assign(({ context, event }) =>
      event.type === "task.failed" ? finish(context, event.payload.taskId, { status: "failed", error: event.payload.error, updatedAt: event.payload.at }) : {},
    ),
  },
}).createMachine({
  id: "tasks",
  context: { nextIndex: 0, tasks: {}, finished: [] },
  initial: "ready",
  states: {
    ready: {
      on: {
        "task.enqueued": { guard: "isNew", actions: "add" },
        "task.claimed": { guard: "claimable", actions: "claim" },
        "task.released": { guard: "claimedBySender", actions: "release" },
        "task.completed": { guard: "claimedBySender", actions: "complete" },
        "task.failed": { guard: "claimedBySender", actions: "fail" },
      },
    },
  },
});
