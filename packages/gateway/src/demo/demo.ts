import type { AgentSpec } from "@atelier/actors";
import { RunnerClient } from "../runner/connection.ts";
import { scriptedHandler } from "../runner/scripted.ts";
import type { Gateway } from "../server/gateway.ts";
import type { WorkspaceHost } from "../server/host.ts";
import { enqueuePrompt } from "../server/prompts.ts";

export const DEMO_AGENTS: readonly AgentSpec[] = [
  { agentId: "claude", vendor: "claude", model: "claude-opus-4", focusPrompt: "You own src/auth.ts and the session split." },
  { agentId: "gemini", vendor: "gemini", model: "gemini-2.5-pro", focusPrompt: "You write and fix the tests." },
  { agentId: "kimi", vendor: "kimi", model: "kimi-k2", focusPrompt: "You keep the docs true to the code." },
  { agentId: "codex", vendor: "codex", model: "gpt-5-codex", focusPrompt: "You own the middleware." },
];

export const DEMO_PROMPT = "Refactor the auth module: move session handling out of src/auth.ts, then update the middleware, the tests and the docs.";

/** First run: a workspace with the four agents, each sent the seed's refactor prompt. */
export const createDemo = async (gw: Gateway): Promise<WorkspaceHost> => {
  const { host } = await gw.createWorkspace({ name: "Demo: collaborative refactor", agents: DEMO_AGENTS, demo: true });
  for (const agent of DEMO_AGENTS) await enqueuePrompt(host, agent.agentId, { text: DEMO_PROMPT, author: "demo" });
  return host;
};

/** The agents of a demo workspace that runners should drive: open and not ended, or in the archive. */
const demoAgents = (gw: Gateway, id: string): readonly string[] => {
  const host = gw.hosts.get(id);
  if (host) return ["terminating", "terminated"].includes(host.ws.status()) ? [] : host.ws.agents.list().map((a) => a.agentId);
  return gw.hibernated(id)?.archive?.agents ?? [];
};

/**
 * Drives every demo workspace with in-process scripted runners that connect over the real runner
 * socket, like any other runner. Their tokens are re-issued here: only hashes are stored. Runners
 * of a workspace in the archive keep retrying and take up its prompts once it has resumed.
 */
export const startDemoRunners = (gw: Gateway, url: string, paceMs?: number): RunnerClient[] => {
  const runners: RunnerClient[] = [];
  for (const row of gw.workspaces.list()) {
    if (!row.demo || row.ended) continue;
    for (const agentId of demoAgents(gw, row.id)) {
      const token = gw.runnerTokens.issue(row.id, agentId);
      runners.push(new RunnerClient({ url, workspace: row.id, agent: agentId, token }, scriptedHandler(agentId, paceMs)));
    }
  }
  return runners;
};
