import { Schema } from "effect";

/**
 * The runner protocol: JSON frames on `/api/v2/workspaces/:id/ws?role=runner&agent=<id>`.
 * Runner → gateway frames are validated with these schemas; a bad frame closes the socket with
 * a reason and changes nothing.
 */
const Id = Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(200));
const Count = Schema.Number.check(Schema.isInt(), Schema.isGreaterThanOrEqualTo(0));
const Money = Schema.Number.check(Schema.isFinite(), Schema.isGreaterThanOrEqualTo(0));
const Path = Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(1024));

export const RunnerStatus = Schema.Struct({
  type: Schema.Literal("status"),
  promptId: Id,
  state: Schema.Literals(["analyzing", "editing", "indexing"]),
});
export const RunnerChunk = Schema.Struct({ type: Schema.Literal("chunk"), promptId: Id, text: Schema.String });
export const RunnerTool = Schema.Struct({
  type: Schema.Literal("tool"),
  promptId: Id,
  kind: Schema.Literals(["edit", "read", "run", "search", "lock"]),
  file: Schema.optional(Path),
  summary: Schema.String,
});
export const RunnerLockAcquire = Schema.Struct({
  type: Schema.Literal("lock.acquire"),
  requestId: Id,
  file: Path,
  mode: Schema.Literals(["shared", "exclusive"]),
  /** Wait in the FIFO queue rather than answer false at once. */
  wait: Schema.optional(Schema.Boolean),
  /** With `wait`: give up after this long. */
  timeoutMs: Schema.optional(Count),
  /** Lease length (the gateway's default when absent); the lock is released when it runs out. */
  leaseMs: Schema.optional(Schema.Number.check(Schema.isInt(), Schema.isGreaterThanOrEqualTo(1), Schema.isLessThanOrEqualTo(3_600_000))),
});
export const RunnerLockRelease = Schema.Struct({ type: Schema.Literal("lock.release"), requestId: Id, file: Path });
export const RunnerResult = Schema.Struct({
  type: Schema.Literal("result"),
  promptId: Id,
  text: Schema.String,
  tokensIn: Count,
  tokensOut: Count,
  cost: Money,
  latencyMs: Count,
});
export const RunnerError = Schema.Struct({ type: Schema.Literal("error"), promptId: Id, message: Schema.String });
/** Liveness (001: a runner silent for 30 s is offline); any frame counts, this one says only that. */
export const RunnerHeartbeat = Schema.Struct({ type: Schema.Literal("heartbeat") });

export const RunnerFrame = Schema.Union([
  RunnerStatus,
  RunnerChunk,
  RunnerTool,
  RunnerLockAcquire,
  RunnerLockRelease,
  RunnerResult,
  RunnerError,
  RunnerHeartbeat,
]);
export type RunnerFrame = typeof RunnerFrame.Type;

/** A message in a prompt's assembled context (003: a token-capped window of recent messages). */
export interface ContextMessage {
  readonly seq: number;
  readonly author: string;
  readonly text: string;
}

/** What a dispatched prompt carries besides its text (003's context assembly). */
export interface PromptContext {
  readonly focus: string;
  readonly summary: { readonly text: string; readonly summaryVersion: number; readonly messageCursor: number };
  readonly messages: readonly ContextMessage[];
  readonly artifacts: ReadonlyArray<{ readonly file: string; readonly agent: string; readonly seq: number }>;
}

/** Why a lock was not granted: taken (without `wait`), the wait timed out, or the runner went offline while waiting. */
export type DenialReason = "busy" | "gave_up" | "holder_offline";

/** What a refused `lock.acquire` tells the runner: who holds the file, in which mode, since when, and how many wait. */
export interface LockDenial {
  readonly reason: DenialReason;
  readonly holders: ReadonlyArray<{ readonly agent: string; readonly mode: string; readonly since: number; readonly expiresAt: number }>;
  readonly waiting: number;
  /** The same in a sentence, for the agent's model or a log. */
  readonly message: string;
}

/**
 * Gateway → runner frames. `rejected` answers a frame the runtime refused (a stale generation,
 * a prompt that is not in flight, a lock not held): nothing was written for it.
 */
export type GatewayToRunner =
  | { type: "hello"; workspace: string; agent: string; generation: number; heartbeatMs: number }
  | { type: "prompt"; promptId: string; attempt: number; text: string; context: PromptContext }
  | { type: "cancel"; promptId: string }
  | { type: "lock.result"; requestId: string; granted: true; mode: "shared" | "exclusive"; token: number; expiresAt: number }
  | ({ type: "lock.result"; requestId: string; granted: false } & LockDenial)
  | { type: "lock.released"; requestId: string }
  | { type: "rejected"; ref: string; code: string; message: string };
