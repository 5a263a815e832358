import type { Queryable } from "./queryable.ts";

export interface AgentRow {
  readonly id: string;
  readonly vendor: string;
  readonly model: string;
  readonly focusPrompt: string;
  /** offline | idle | busy | error */
  readonly state: string;
  /** What a busy agent does: analyzing | editing | indexing | waiting. */
  readonly activity: string | null;
  readonly runnerConnected: boolean;
  readonly runnerGeneration: number | null;
  readonly promptId: string | null;
  readonly error: string | null;
  readonly registeredAt: number;
  readonly updatedAt: number;
  readonly tokensIn: number;
  readonly tokensOut: number;
  readonly cost: number;
}

const AGENTS = `SELECT a.id, a.vendor, a.model, a.focus_prompt AS focusPrompt, a.state, a.activity,
  a.runner_connected AS runnerConnected, a.runner_generation AS runnerGeneration, a.prompt_id AS promptId, a.error,
  a.registered_at AS registeredAt, a.updated_at AS updatedAt,
  coalesce(s.tokens_in, 0) AS tokensIn, coalesce(s.tokens_out, 0) AS tokensOut, coalesce(s.cost, 0) AS cost
FROM agents a LEFT JOIN agent_stats s ON s.agent = a.id ORDER BY a.id`;

/** Every registered agent with its state and token and cost totals. */
export const listAgents = (q: Queryable): AgentRow[] =>
  (q.statement(AGENTS).all() as Array<Omit<AgentRow, "runnerConnected"> & { runnerConnected: number }>).map((row) => ({ ...row, runnerConnected: row.runnerConnected === 1 }));
