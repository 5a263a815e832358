import { parseEntity } from "@atelier/actors/machines";
import { stmt, type SqlValue, type Stmt } from "./sql.ts";
import type { Part } from "./types.ts";

const agentId = (entity: string): string => parseEntity(entity).key;

/** An update of `columns` (with `?` placeholders) on one agent row; SQL built once. */
const setter = (columns: string) => {
  const sql = `UPDATE agents SET ${columns}, updated_at = ? WHERE id = ?`;
  return (id: string, at: number, ...params: SqlValue[]): Stmt => ({ sql, params: [...params, at, id] });
};

/** Adds to an agent's counters, creating its stats row on first use; SQL built once. */
export const counter = (...columns: string[]) => {
  const sql =
    `INSERT INTO agent_stats (agent, ${columns.join(", ")}) VALUES (?${", ?".repeat(columns.length)}) ` +
    `ON CONFLICT (agent) DO UPDATE SET ${columns.map((c) => `${c} = ${c} + excluded.${c}`).join(", ")}`;
  return (agent: string, ...values: SqlValue[]): Stmt => ({ sql, params: [agent, ...values] });
};

/** Adds the busy stretch that ends at `at` to the agent's active time. */
const endBusy = (agent: string, at: number): Stmt =>
  stmt(
    "UPDATE agent_stats SET active_ms = active_ms + (? - busy_since), busy_since = NULL WHERE agent = ? AND busy_since IS NOT NULL",
    at, agent,
  );

const configure = setter("model = coalesce(?, model), focus_prompt = coalesce(?, focus_prompt)");
/** An agent in error stays there across runner (re)connections until it is restarted. */
const connect = setter("state = CASE state WHEN 'error' THEN 'error' ELSE 'idle' END, runner_connected = 1, runner_generation = ?");
const disconnect = setter(
  "state = CASE state WHEN 'error' THEN 'error' ELSE 'offline' END, activity = NULL, prompt_id = NULL, runner_connected = 0",
);
const startWork = setter("state = 'busy', activity = 'analyzing', prompt_id = ?");
const changeActivity = setter("activity = ?");
const finishWork = setter("state = 'idle', activity = NULL, prompt_id = NULL");
const fail = setter("state = 'error', activity = NULL, prompt_id = NULL, error = ?");
const restart = setter("state = CASE runner_connected WHEN 1 THEN 'idle' ELSE 'offline' END, error = NULL");
const addUsage = counter("tokens_in", "tokens_out", "cost");

export const agentProjectors = {
  "agent.registered": ({ payload: p }) => [
    stmt(
      "INSERT INTO agents (id, vendor, model, focus_prompt, state, registered_at, updated_at) VALUES (?, ?, ?, ?, 'offline', ?, ?)",
      p.agentId, p.vendor, p.model, p.focusPrompt, p.at, p.at,
    ),
    stmt("INSERT INTO agent_stats (agent) VALUES (?) ON CONFLICT (agent) DO NOTHING", p.agentId),
  ],
  "agent.configured": ({ entity, payload: p }) => [configure(agentId(entity), p.at, p.model ?? null, p.focusPrompt ?? null)],
  "agent.connected": ({ entity, payload: p }) => [connect(agentId(entity), p.at, p.generation)],
  "agent.disconnected": ({ entity, payload: p }) => [disconnect(agentId(entity), p.at), endBusy(agentId(entity), p.at)],
  "agent.work_started": ({ entity, payload: p }) => [
    startWork(agentId(entity), p.at, p.promptId),
    stmt(
      "INSERT INTO agent_stats (agent, busy_since) VALUES (?, ?) ON CONFLICT (agent) DO UPDATE SET busy_since = excluded.busy_since",
      agentId(entity), p.at,
    ),
  ],
  "agent.activity_changed": ({ entity, payload: p }) => [changeActivity(agentId(entity), p.at, p.activity)],
  "agent.work_finished": ({ entity, payload: p }) => [
    finishWork(agentId(entity), p.at),
    endBusy(agentId(entity), p.at),
    addUsage(agentId(entity), p.tokensIn, p.tokensOut, p.cost),
  ],
  "agent.failed": ({ entity, payload: p }) => [fail(agentId(entity), p.at, p.message), endBusy(agentId(entity), p.at)],
  "agent.restarted": ({ entity, payload: p }) => [restart(agentId(entity), p.at)],
} satisfies Part;
