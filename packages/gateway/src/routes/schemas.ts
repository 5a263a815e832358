import { Schema } from "effect";
import { Vendor } from "@atelier/actors";
import { roles } from "../auth/roles.ts";

/**
 * Input schemas of the REST API. Every body, path parameter and query string is decoded against
 * one of these strictly (unknown fields are errors) before anything runs.
 */
const text = (min: number, max: number) => Schema.String.check(Schema.isMinLength(min), Schema.isMaxLength(max));
/** A string matching `re`; a mismatch is reported as "Expected <expected>", not as the regular expression. */
const pattern = (re: RegExp, expected: string) => Schema.String.check(Schema.isPattern(re, { expected }));
const int = (min: number, max: number) => Schema.Number.check(Schema.isInt(), Schema.isGreaterThanOrEqualTo(min), Schema.isLessThanOrEqualTo(max));

/** Safe as a folder name and in a URL. */
export const WorkspaceId = pattern(/^[A-Za-z0-9_-]{1,64}$/, "a workspace id: 1-64 letters, digits, '_' or '-'");
/** Safe in an entity name (`agent:<id>`) and in a URL. */
export const AgentId = pattern(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, "an agent id: a letter or digit, then up to 63 letters, digits, '_', '.' or '-'");
export const PromptId = pattern(/^[A-Za-z0-9_-]{1,100}$/, "a prompt id: 1-100 letters, digits, '_' or '-'");
export const TokenId = pattern(/^tok_[0-9a-f]{8}$/, "a token id: tok_ and 8 hex digits");
/** A whole number in a query string. */
export const Digits = pattern(/^\d{1,15}$/, "a whole number of at most 15 digits");
const Limit = pattern(/^(?:[1-9]\d{0,2})$/, "a whole number from 1 to 999");

export const WorkspaceParams = Schema.Struct({ id: WorkspaceId });
export const AgentParams = Schema.Struct({ id: WorkspaceId, agent: AgentId });
export const PromptParams = Schema.Struct({ id: WorkspaceId, agent: AgentId, prompt: PromptId });
export const TokenParams = Schema.Struct({ token: TokenId });

export const AgentInput = Schema.Struct({
  id: AgentId,
  vendor: Vendor,
  model: text(1, 200),
  focus: Schema.optional(text(0, 8000)),
});
export const CreateWorkspaceBody = Schema.Struct({
  name: text(1, 200),
  agents: Schema.Array(AgentInput).check(Schema.isMinLength(1), Schema.isMaxLength(16)),
});
export const ExecuteBody = Schema.Struct({
  prompt: text(1, 32_000),
  clientRequestId: Schema.optional(text(1, 200)),
  priority: Schema.optional(int(-1000, 1000)),
  /** Cancel the prompt in flight first (003: a new message can interrupt). */
  interrupt: Schema.optional(Schema.Boolean),
});
export const SummaryBody = Schema.Struct({
  text: text(0, 32_000),
  /** Seq of the last message the summary covers. */
  messageCursor: int(0, Number.MAX_SAFE_INTEGER),
});
export const CreateTokenBody = Schema.Struct({
  role: Schema.Literals(roles),
  name: Schema.optional(text(1, 100)),
  ttlMs: Schema.optional(int(1000, 10 * 365 * 24 * 3600 * 1000)),
});

export const TimelineQuery = Schema.Struct({
  from: Schema.optional(Digits),
  before: Schema.optional(Digits),
  limit: Schema.optional(Limit),
  type: Schema.optional(text(1, 100)),
  agent: Schema.optional(AgentId),
  entity: Schema.optional(text(1, 1100)),
});
export const MessagesQuery = Schema.Struct({ before: Schema.optional(Digits), limit: Schema.optional(Limit), agent: Schema.optional(AgentId) });
export const EventsQuery = Schema.Struct({ from: Schema.optional(Digits), limit: Schema.optional(Limit) });
export const SnapshotQuery = Schema.Struct({ at: Digits });
export const PromptsQuery = Schema.Struct({ agent: Schema.optional(AgentId), limit: Schema.optional(Limit) });
export const RunsQuery = Schema.Struct({ before: Schema.optional(Digits), limit: Schema.optional(Limit) });
export const LocksQuery = Schema.Struct({ view: Schema.optional(Schema.Literals(["list", "tree"])) });

/** A decoded optional number from a query string. */
export const num = (value: string | undefined): number | undefined => (value === undefined ? undefined : Number(value));
