import { Hono } from "hono";
import { agentRuns, listAgents, promptQueue } from "@atelier/projections";
import type { AppEnv } from "../auth/middleware.ts";
import { requirePermission } from "../auth/middleware.ts";
import { notFound } from "../http/errors.ts";
import { enqueuePrompt, promptState } from "../server/prompts.ts";
import type { Gateway } from "../server/gateway.ts";
import type { WorkspaceHost } from "../server/host.ts";
import { body, emptyBody, noQuery, params, query } from "./input.ts";
import { AgentParams, ExecuteBody, PromptParams, PromptsQuery, RunsQuery, WorkspaceParams, num } from "./schemas.ts";

/** The workspace and a registered agent named by the path (decoded with its route's schema), or a 404. */
const agentOf = async (gw: Gateway, p: { readonly id: string; readonly agent: string }): Promise<{ host: WorkspaceHost; agent: string }> => {
  const host = await gw.host(p.id);
  if (!host.ws.agents.get(p.agent)) throw notFound(`no agent ${p.agent} in workspace ${p.id}`);
  return { host, agent: p.agent };
};

/** Agents, prompts sent to them (execute, cancel, queue) and their finished runs. */
export const agentRoutes = (gw: Gateway) => {
  const app = new Hono<AppEnv>();

  app.get("/workspaces/:id/agents", async (c) => {
    noQuery(c);
    requirePermission(c, "read");
    const host = await gw.host(params(c, WorkspaceParams).id);
    return c.json({ items: listAgents(host.projection), lastSeq: host.projection.seq });
  });

  app.post("/workspaces/:id/agents/:agent/execute", async (c) => {
    noQuery(c);
    const principal = requirePermission(c, "write");
    const sleeping = await gw.asleep(params(c, AgentParams).id);
    if (sleeping) {
      // 004: a prompt to a hibernated workspace is queued, then wakes it. The folder is in the
      // archive, so the prompt is held in the catalogue until the workspace has resumed.
      const input = await body(c, ExecuteBody);
      const { requestId, duplicate } = gw.holdPrompt(sleeping.id, params(c, AgentParams).agent, {
        text: input.prompt,
        author: principal.name,
        ...(input.priority !== undefined ? { priority: input.priority } : {}),
        ...(input.clientRequestId !== undefined ? { clientRequestId: input.clientRequestId } : {}),
        ...(input.interrupt !== undefined ? { interrupt: input.interrupt } : {}),
      });
      gw.metrics.inc("atelier_prompts_held_total", "Prompts held for a hibernated workspace");
      return c.json({ promptId: null, clientRequestId: requestId, state: "held", duplicate }, 202);
    }
    const { host, agent } = await agentOf(gw, params(c, AgentParams));
    const input = await body(c, ExecuteBody);
    const { promptId, duplicate } = await enqueuePrompt(host, agent, {
      text: input.prompt,
      author: principal.name,
      ...(input.priority !== undefined ? { priority: input.priority } : {}),
      ...(input.clientRequestId !== undefined ? { clientRequestId: input.clientRequestId } : {}),
      ...(input.interrupt !== undefined ? { interrupt: input.interrupt } : {}),
    });
    gw.metrics.inc("atelier_prompts_enqueued_total", "Prompts accepted by execute", { duplicate: String(duplicate) });
    return c.json({ promptId, state: promptState(host, agent, promptId), duplicate }, 202);
  });

  app.post("/workspaces/:id/agents/:agent/prompts/:prompt/cancel", async (c) => {
    noQuery(c);
    requirePermission(c, "write");
    const { prompt, ...named } = params(c, PromptParams);
    const { host, agent } = await agentOf(gw, named);
    await emptyBody(c);
    await host.ws.prompts.cancel(agent, prompt);
    return c.json({ promptId: prompt, state: "cancelled" });
  });

  app.get("/workspaces/:id/prompts", async (c) => {
    const q = query(c, PromptsQuery);
    requirePermission(c, "read");
    const host = await gw.host(params(c, WorkspaceParams).id);
    if (q.agent !== undefined && !host.ws.agents.get(q.agent)) throw notFound(`no agent ${q.agent}`);
    return c.json({ items: promptQueue(host.projection, { ...(q.agent ? { agent: q.agent } : {}), ...(q.limit ? { limit: num(q.limit) } : {}) }) });
  });

  app.get("/workspaces/:id/agents/:agent/runs", async (c) => {
    const q = query(c, RunsQuery);
    requirePermission(c, "read");
    const { host, agent } = await agentOf(gw, params(c, AgentParams));
    const page = agentRuns(host.projection, agent, { ...(q.before ? { before: num(q.before) } : {}), ...(q.limit ? { limit: num(q.limit) } : {}) });
    return c.json({ items: page.items, next: page.next ?? null });
  });

  /** Issues a new runner token for the agent (the old one stops working, its socket closes). */
  app.post("/workspaces/:id/agents/:agent/runner-token", async (c) => {
    noQuery(c);
    requirePermission(c, "manage");
    const { host, agent } = await agentOf(gw, params(c, AgentParams));
    await emptyBody(c);
    const token = gw.runnerTokens.issue(host.id, agent);
    gw.revalidate();
    return c.json({ agent, runnerToken: token }, 201);
  });

  return app;
};
