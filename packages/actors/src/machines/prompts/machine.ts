import { assign, emit, setup } from "xstate";
import type { Ev } from "../events.ts";

export type PromptStatus = "queued" | "processing" | "completed" | "failed" | "cancelled";

export interface PromptEntry {
  readonly promptId: string;
  readonly clientRequestId: string | null;
  readonly text: string;
  readonly priority: number;
  readonly author: string;
  /** Enqueue order within this queue; ties between equal priorities break on it. */
  readonly index: number;
  readonly enqueuedAt: number;
  readonly status: PromptStatus;
  /** Dispatch attempts so far (a requeue after a disconnect makes the next one attempt + 1). */
  readonly attempt: number;
  /** Runner generation of the current attempt; results from any other generation are refused. */
  readonly generation: number | null;
  /** When the current attempt streamed its first token (null until then; reset by each start). */
  readonly firstTokenAt: number | null;
}

export interface PromptQueueContext {
  readonly agent: string;
  readonly nextIndex: number;
  /** Open prompts (queued or processing) by id. Finished ones move to `finished`. */
  readonly prompts: Readonly<Record<string, PromptEntry>>;
  /** Queued prompt ids in dispatch order: priority descending, then enqueue order. */
  readonly queued: readonly string[];
  readonly processing: string | null;
  /** clientRequestId → promptId of open prompts, for idempotent enqueue. */
  readonly requests: Readonly<Record<string, string>>;
  /**
   * Finished prompts, oldest first; only the last RETAINED_FINISHED are kept. Kept apart from
   * `prompts` so that each transition copies only the few open prompts, not the history.
   */
  readonly finished: readonly PromptEntry[];
}

/** How many finished prompts (and their request ids) a queue remembers for idempotent retries. */
export const RETAINED_FINISHED = 500;

export type PromptEvent = Ev<
  "prompt.enqueued" | "prompt.started" | "prompt.first_token" | "prompt.requeued" | "prompt.completed" | "prompt.failed" | "prompt.cancelled"
>;

/** Effects for the runtime: hand a prompt to the runner, or tell it to stop. */
export type PromptEffect =
  | { type: "runner.dispatch"; agent: string; promptId: string; text: string; attempt: number; generation: number }
  | { type: "runner.abort"; agent: string; promptId: string; generation: number };

const before = (a: PromptEntry, b: PromptEntry) => b.priority - a.priority || a.index - b.index;

const insertSorted = (ctx: PromptQueueContext, prompts: Record<string, PromptEntry>, id: string): string[] => {
  const entry = prompts[id]!;
  const queued = [...ctx.queued];
  let i = queued.length;
  while (i > 0 && before(entry, prompts[queued[i - 1]!]!) < 0) i--;
  queued.splice(i, 0, id);
  return queued;
};

/** Moves a prompt to `finished` with a terminal status, forgetting the oldest past the retention. */
const finish = (ctx: PromptQueueContext, id: string, status: PromptStatus): Partial<PromptQueueContext> => {
  const { [id]: entry, ...prompts } = ctx.prompts;
  const requests = { ...ctx.requests };
  if (entry?.clientRequestId) delete requests[entry.clientRequestId];
  const finished = [...ctx.finished, { ...entry!, status }];
  return {
    prompts,
    requests,
    finished: finished.length > RETAINED_FINISHED ? finished.slice(finished.length - RETAINED_FINISHED) : finished,
    queued: ctx.queued.filter((q) => q !== id),
    processing: ctx.processing === id ? null : ctx.processing,
  };
};

/** A prompt the queue still knows, open or among the retained finished ones. */
export const findPrompt = (ctx: PromptQueueContext, promptId: string): PromptEntry | undefined =>
  ctx.prompts[promptId] ?? ctx.finished.findLast((p) => p.promptId === promptId);

/** The prompt a client request id created, if the queue still knows it. */
export const findRequest = (ctx: PromptQueueContext, clientRequestId: string): string | undefined =>
  ctx.requests[clientRequestId] ?? ctx.finished.findLast((p) => p.clientRequestId === clientRequestId)?.promptId;

export const initialPromptQueueContext = (agent: string): PromptQueueContext => ({
  agent,
  nextIndex: 0,
  prompts: {},
  queued: [],
  processing: null,
  requests: {},
  finished: [],
});

const statusOf = (ctx: PromptQueueContext, id: string) => ctx.prompts[id]?.status;

/**
 * One agent's prompt queue (004): each prompt is queued → processing → completed | failed |
 * cancelled, and processing → queued when the runner goes away. The queue itself is idle or
 * processing (at most one prompt in flight per agent).
 */
export const promptQueueMachine = setup({
  types: {
    context: {} as PromptQueueContext,
    events: {} as PromptEvent,
    input: {} as { agent: string },
    emitted: {} as PromptEffect,
  },
  guards: {
    canEnqueue: ({ context, event }) =>
      event.type === "prompt.enqueued" &&
      event.payload.agent === context.agent &&
      findPrompt(context, event.payload.promptId) === undefined &&
      (event.payload.clientRequestId === null || findRequest(context, event.payload.clientRequestId) === undefined),
    canStart: ({ context, event }) =>
      event.type === "prompt.started" &&
      context.processing === null &&
      context.queued[0] === event.payload.promptId &&
      event.payload.attempt === context.prompts[event.payload.promptId]!.attempt + 1,
    firstToken: ({ context, event }) =>
      event.type === "prompt.first_token" &&
      context.processing === event.payload.promptId &&
      context.prompts[event.payload.promptId]!.generation === event.payload.generation &&
      context.prompts[event.payload.promptId]!.firstTokenAt === null,
    isProcessing: ({ context, event }) => event.type === "prompt.requeued" && context.processing === event.payload.promptId,
    sameGeneration: ({ context, event }) =>
      (event.type === "prompt.completed" || event.type === "prompt.failed") &&
      context.processing === event.payload.promptId &&
      context.prompts[event.payload.promptId]!.generation === event.payload.generation,
    isOpen: ({ context, event }) => {
      if (event.type !== "prompt.cancelled") return false;
      const s = statusOf(context, event.payload.promptId);
      return s === "queued" || s === "processing";
    },
    busy: ({ context }) => context.processing !== null,
  },
  actions: {
    enqueue: assign(({ context, event }) => {
      if (event.type !== "prompt.enqueued") return {};
      const p = event.payload;
      const entry: PromptEntry = {
        promptId: p.promptId,
        clientRequestId: p.clientRequestId,
        text: p.text,
        priority: p.priority,
        author: p.author,
        index: context.nextIndex,
        enqueuedAt: p.at,
        status: "queued",
        attempt: 0,
        generation: null,
        firstTokenAt: null,
      };
      const prompts = { ...context.prompts, [p.promptId]: entry };
      return {
        nextIndex: context.nextIndex + 1,
        prompts,
        queued: insertSorted(context, prompts, p.promptId),
        requests: p.clientRequestId === null ? context.requests : { ...context.requests, [p.clientRequestId]: p.promptId },
      };
    }),
    start: assign(({ context, event }) => {
      if (event.type !== "prompt.started") return {};
      const { promptId, attempt, generation } = event.payload;
      return {
        prompts: { ...context.prompts, [promptId]: { ...context.prompts[promptId]!, status: "processing", attempt, generation, firstTokenAt: null } },
        queued: context.queued.slice(1),
        processing: promptId,
      };
    }),
    dispatch: emit(({ context, event }) => {
      const p = event.type === "prompt.started" ? event.payload : undefined;
      const entry = context.prompts[p?.promptId ?? ""];
      return {
        type: "runner.dispatch" as const,
        agent: context.agent,
        promptId: entry?.promptId ?? "",
        text: entry?.text ?? "",
        attempt: entry?.attempt ?? 0,
        generation: entry?.generation ?? 0,
      };
    }),
    noteFirstToken: assign(({ context, event }) => {
      if (event.type !== "prompt.first_token") return {};
      const { promptId, at } = event.payload;
      return { prompts: { ...context.prompts, [promptId]: { ...context.prompts[promptId]!, firstTokenAt: at } } };
    }),
    requeue: assign(({ context, event }) => {
      if (event.type !== "prompt.requeued") return {};
      const id = event.payload.promptId;
      const prompts = { ...context.prompts, [id]: { ...context.prompts[id]!, status: "queued" as const, generation: null } };
      return { prompts, processing: null, queued: insertSorted(context, prompts, id) };
    }),
    complete: assign(({ context, event }) => (event.type === "prompt.completed" ? finish(context, event.payload.promptId, "completed") : {})),
    fail: assign(({ context, event }) => (event.type === "prompt.failed" ? finish(context, event.payload.promptId, "failed") : {})),
    abortIfRunning: emit(({ context, event }) => ({
      type: "runner.abort" as const,
      agent: context.agent,
      promptId: event.type === "prompt.cancelled" ? event.payload.promptId : "",
      generation: context.prompts[event.type === "prompt.cancelled" ? event.payload.promptId : ""]?.generation ?? 0,
    })),
    cancel: assign(({ context, event }) => (event.type === "prompt.cancelled" ? finish(context, event.payload.promptId, "cancelled") : {})),
  },
}).createMachine({
  id: "prompts",
  context: ({ input }) => initialPromptQueueContext(input.agent),
  initial: "idle",
  on: {
    "prompt.enqueued": { guard: "canEnqueue", actions: "enqueue", target: ".settle" },
    "prompt.started": { guard: "canStart", actions: ["start", "dispatch"], target: ".settle" },
    "prompt.first_token": { guard: "firstToken", actions: "noteFirstToken" },
    "prompt.requeued": { guard: "isProcessing", actions: "requeue", target: ".settle" },
    "prompt.completed": { guard: "sameGeneration", actions: "complete", target: ".settle" },
    "prompt.failed": { guard: "sameGeneration", actions: "fail", target: ".settle" },
    "prompt.cancelled": [
      {
        guard: ({ context, event }) => event.type === "prompt.cancelled" && context.processing === event.payload.promptId,
        actions: ["abortIfRunning", "cancel"],
        target: ".settle",
      },
      { guard: "isOpen", actions: "cancel", target: ".settle" },
    ],
  },
  states: {
    settle: { always: [{ guard: "busy", target: "processing" }, { target: "idle" }] },
    idle: {},
    processing: {},
  },
});
