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

/**
 * Drives every live demo workspace with in-process scripted runners that connect over the real
 * runner socket, like any other runner. Their tokens are re-issued here: only hashes are stored.
 */
export const startDemoRunners = (gw: Gateway, url: string, paceMs?: number): RunnerClient[] => {
  const runners: RunnerClient[] = [];
  for (const host of gw.hosts.values()) {
    if (!host.demo || ["terminating", "terminated"].includes(host.ws.status())) continue;
    for (const { agentId } of host.ws.agents.list()) {
      const token = gw.runnerTokens.issue(host.id, agentId);
      runners.push(new RunnerClient({ url, workspace: host.id, agent: agentId, token }, scriptedHandler(agentId, paceMs)));
    }
  }
  return runners;
};
