import { Schema } from "effect";
import { describeSchemaError } from "@atelier/events";
import { AgentId, WorkspaceId } from "../routes/schemas.ts";

/**
 * The seed's session JSONL (000 §3.5): one `{ ts, type, agent, payload }` per line. These are the
 * types `atelier import` understands; the payloads may carry more fields than these (ignored).
 */
const Str = Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(1024));
const Count = Schema.Number.check(Schema.isInt(), Schema.isGreaterThanOrEqualTo(0));
const payloads = {
  session_start: Schema.Struct({ workspace_id: Schema.optional(WorkspaceId), name: Schema.optional(Str) }),
  session_end: Schema.Struct({}),
  agent_init: Schema.Struct({ model: Str, vendor: Schema.optional(Str), focus: Schema.optional(Schema.String) }),
  user_message: Schema.Struct({ content: Schema.String.check(Schema.isMinLength(1)), to: Schema.optional(Str) }),
  file_lock_acquire: Schema.Struct({ file: Str, type: Schema.Literals(["shared", "exclusive"]) }),
  file_lock_release: Schema.Struct({ file: Str }),
  llm_response: Schema.Struct({
    content: Schema.optional(Schema.String),
    prompt_tokens: Schema.optional(Count),
    completion_tokens: Schema.optional(Count),
    cost: Schema.optional(Schema.Number.check(Schema.isFinite(), Schema.isGreaterThanOrEqualTo(0))),
  }),
  file_edit: Schema.Struct({ file: Str, lines_changed: Schema.optional(Count), diff: Schema.optional(Schema.String) }),
} as const;

export type SessionType = keyof typeof payloads;
const SESSION_TYPES = Object.keys(payloads) as SessionType[];

const Line = Schema.Struct({
  ts: Schema.String,
  type: Schema.Literals(SESSION_TYPES),
  agent: AgentId,
  payload: Schema.Unknown,
});

export interface SessionLine<T extends SessionType = SessionType> {
  readonly line: number;
  readonly at: number;
  readonly type: T;
  readonly agent: string;
  readonly payload: (typeof payloads)[T]["Type"];
}

export interface LineError {
  readonly line: number;
  readonly message: string;
}

/** Who is not an agent in a session log. */
const PEOPLE = new Set(["user", "system"]);

const decode = <S extends Schema.Top>(schema: S, value: unknown, strict: boolean): S["Type"] =>
  Schema.decodeUnknownSync(schema as unknown as Schema.Codec<S["Type"]>)(value, { errors: "all", onExcessProperty: strict ? "error" : "ignore" });

const problem = (error: unknown, prefix: string): string =>
  Schema.isSchemaError(error) ? describeSchemaError(error.message, prefix).map((p) => (p.path ? `${p.path}: ${p.issue}` : p.issue)).join("; ") : String(error);

/**
 * Parses and checks a whole session log: shape, known types, timestamps in order, agents
 * initialised before they act, and locks that are consistent (no grant over an exclusive holder,
 * no release by a non-holder). Every bad line is reported; an import writes nothing unless
 * there are none.
 */
export const parseSession = (text: string): { lines: SessionLine[]; errors: LineError[] } => {
  const lines: SessionLine[] = [];
  const errors: LineError[] = [];
  const agents = new Set<string>();
  const holders = new Map<string, Map<string, "shared" | "exclusive">>();
  let last = -Infinity;
  text.split("\n").forEach((raw, i) => {
    const n = i + 1;
    if (raw.trim() === "") return;
    const fail = (message: string) => void errors.push({ line: n, message });
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (error) {
      return fail(`not JSON: ${(error as Error).message}`);
    }
    let head: typeof Line.Type;
    let payload: unknown;
    try {
      head = decode(Line, value, true);
      payload = decode(payloads[head.type], head.payload, false);
    } catch (error) {
      return fail(problem(error, ""));
    }
    const at = Date.parse(head.ts);
    if (!/^\d{4}-\d{2}-\d{2}T/.test(head.ts) || Number.isNaN(at)) return fail(`ts: not an ISO-8601 time: ${head.ts}`);
    if (at < last) return fail(`ts: ${head.ts} is earlier than the line before`);
    const acts = !["session_start", "session_end", "user_message"].includes(head.type);
    if (head.type === "agent_init") {
      if (PEOPLE.has(head.agent)) return fail(`agent_init: "${head.agent}" names a person, not an agent`);
      if (agents.has(head.agent)) return fail(`agent_init: ${head.agent} was initialised already`);
    } else if (acts && !agents.has(head.agent)) return fail(`${head.type}: agent ${head.agent} acts before its agent_init`);
    const to = head.type === "user_message" ? (payload as { to?: string }).to : undefined;
    if (to !== undefined && !agents.has(to)) return fail(`user_message: payload.to names unknown agent ${to}`);
    if (head.type === "file_lock_acquire" || head.type === "file_lock_release") {
      const { file } = payload as { file: string };
      const held = holders.get(file) ?? new Map<string, "shared" | "exclusive">();
      if (head.type === "file_lock_release") {
        if (!held.has(head.agent)) return fail(`file_lock_release: ${head.agent} does not hold ${file}`);
        held.delete(head.agent);
      } else {
        const mode = (payload as { type: "shared" | "exclusive" }).type;
        const others = [...held].filter(([a]) => a !== head.agent);
        const blocker = others.find(([, m]) => m === "exclusive" || mode === "exclusive");
        if (blocker) return fail(`file_lock_acquire: ${file} is held by ${blocker[0]} (${blocker[1]})`);
        held.set(head.agent, mode);
      }
      holders.set(file, held);
    }
    if (head.type === "agent_init") agents.add(head.agent);
    last = at;
    lines.push({ line: n, at, type: head.type, agent: head.agent, payload } as SessionLine);
  });
  if (lines.length === 0 && errors.length === 0) errors.push({ line: 1, message: "the file holds no session lines" });
  return { lines, errors };
};
