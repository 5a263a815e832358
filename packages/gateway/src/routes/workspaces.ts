import { Hono, type Context } from "hono";
import type { AppEnv } from "../auth/middleware.ts";
import { requirePermission } from "../auth/middleware.ts";
import type { Gateway } from "../server/gateway.ts";
import { workspaceState, workspaceSummary } from "../server/state.ts";
import { badRequest } from "../http/errors.ts";
import { SUMMARY_KEY } from "../context/assemble.ts";
import { body, emptyBody, noQuery, params, query } from "./input.ts";
import { CreateWorkspaceBody, SummaryBody, WorkspaceParams } from "./schemas.ts";

/** Workspaces: create, list, status, lifecycle (hibernate, resume, terminate), milestone summary. */
export const workspaceRoutes = (gw: Gateway) => {
  const app = new Hono<AppEnv>();

  app.post("/workspaces", async (c) => {
    noQuery(c);
    requirePermission(c, "manage");
    const input = await body(c, CreateWorkspaceBody);
    const ids = input.agents.map((a) => a.id);
    const dup = ids.find((id, i) => ids.indexOf(id) !== i);
    if (dup !== undefined) throw badRequest(`agent id ${dup} appears twice`, [{ path: "agents", issue: `duplicate id ${dup}` }]);
    const { host, runnerTokens } = await gw.createWorkspace({
      name: input.name,
      agents: input.agents.map((a) => ({ agentId: a.id, vendor: a.vendor, model: a.model, ...(a.focus !== undefined ? { focusPrompt: a.focus } : {}) })),
    });
    gw.metrics.inc("atelier_workspaces_created_total", "Workspaces created");
    // Runner tokens are shown here once; only their hashes are kept.
    return c.json({ workspace: workspaceSummary(host), runnerTokens }, 201);
  });

  app.get("/workspaces", (c) => {
    noQuery(c);
    requirePermission(c, "read");
    return c.json({ items: [...gw.hosts.values()].map(workspaceSummary) });
  });

  app.get("/workspaces/:id/status", (c) => {
    noQuery(c);
    requirePermission(c, "read");
    const host = gw.host(params(c, WorkspaceParams).id);
    return c.json({ ...workspaceState(host), runners: Object.fromEntries(host.ws.runners.connected()), clients: host.presence() });
  });

  const lifecycle = (path: string, permission: "write" | "manage", act: (host: ReturnType<Gateway["host"]>, by: string) => Promise<void>) =>
    async (c: Context<AppEnv>) => {
      noQuery(c);
      const principal = requirePermission(c, permission);
      const host = gw.host(params(c, WorkspaceParams).id);
      await emptyBody(c);
      await act(host, principal.name);
      gw.metrics.inc("atelier_lifecycle_requests_total", "Lifecycle requests accepted", { action: path });
      return c.json({ id: host.id, state: host.ws.status() }, 202);
    };
  app.post("/workspaces/:id/hibernate", lifecycle("hibernate", "write", (h, by) => h.ws.lifecycle.hibernate(by)));
  app.post("/workspaces/:id/resume", lifecycle("resume", "write", (h) => h.ws.lifecycle.resume()));
  app.post("/workspaces/:id/renew", lifecycle("renew", "write", (h) => h.ws.lifecycle.renew()));
  app.delete("/workspaces/:id", lifecycle("terminate", "manage", (h, by) => h.ws.lifecycle.terminate(by)));

  app.put("/workspaces/:id/summary", async (c) => {
    noQuery(c);
    const principal = requirePermission(c, "write");
    const host = gw.host(params(c, WorkspaceParams).id);
    const input = await body(c, SummaryBody);
    if (input.messageCursor > host.head) throw badRequest(`messageCursor ${input.messageCursor} is past the log's head ${host.head}`);
    const previous = host.ws.context.get(SUMMARY_KEY)?.value as { summaryVersion?: number } | undefined;
    const summary = { text: input.text, summaryVersion: (previous?.summaryVersion ?? 0) + 1, messageCursor: input.messageCursor };
    await host.ws.context.set(SUMMARY_KEY, summary, principal.name);
    return c.json(summary);
  });

  return app;
};
