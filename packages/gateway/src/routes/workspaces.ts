import { Hono, type Context } from "hono";
import type { AppEnv } from "../auth/middleware.ts";
import { requirePermission } from "../auth/middleware.ts";
import type { Gateway } from "../server/gateway.ts";
import type { WorkspaceHost } from "../server/host.ts";
import { endedSummary, hibernatedSummary, unservedSummary, workspaceState, workspaceSummary } from "../server/state.ts";
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
    // Open ones from their read models; the others (archived, terminated and closed, not opened
    // yet since the start, or unavailable) from the catalogue.
    const items = gw.workspaces.list().flatMap((row): object[] => {
      const host = gw.hosts.get(row.id);
      if (host) return [workspaceSummary(host)];
      const sleeping = gw.hibernated(row.id);
      if (sleeping) return [hibernatedSummary(gw, sleeping)];
      if (row.ended) return [endedSummary(row, row.ended)];
      if (gw.opening(row.id)) return [unservedSummary(row, "opening")];
      const unavailable = gw.unavailable.get(row.id);
      return unavailable === undefined ? [] : [unservedSummary(row, "unavailable", unavailable)];
    });
    return c.json({ items });
  });

  app.get("/workspaces/:id/status", async (c) => {
    noQuery(c);
    requirePermission(c, "read");
    const id = params(c, WorkspaceParams).id;
    const sleeping = await gw.asleep(id);
    if (sleeping) return c.json({ workspace: hibernatedSummary(gw, sleeping) });
    const host = await gw.host(id);
    return c.json({ ...workspaceState(host), runners: Object.fromEntries(host.ws.runners.connected()), clients: host.presence() });
  });

  /** `wake`: a workspace in the archive is resumed first instead of answered 409. */
  const lifecycle = (path: string, permission: "write" | "manage", act: (host: WorkspaceHost, by: string) => Promise<void>, options: { wake?: boolean } = {}) =>
    async (c: Context<AppEnv>) => {
      noQuery(c);
      const principal = requirePermission(c, permission);
      const id = params(c, WorkspaceParams).id;
      await emptyBody(c);
      const host = options.wake && (await gw.asleep(id)) ? await gw.resume(id) : await gw.host(id);
      await act(host, principal.name);
      gw.metrics.inc("atelier_lifecycle_requests_total", "Lifecycle requests accepted", { action: path });
      return c.json({ id: host.id, state: host.ws.status() }, 202);
    };
  // Hibernation ends with the folder archived and wiped (the gateway reacts to `workspace.hibernated`);
  // asking again while it is hibernated is a no-op, and a workspace whose archiving failed retries.
  app.post("/workspaces/:id/hibernate", async (c) => {
    noQuery(c);
    const principal = requirePermission(c, "write");
    const id = params(c, WorkspaceParams).id;
    await emptyBody(c);
    const sleeping = await gw.asleep(id);
    if (sleeping) return c.json({ id, state: sleeping.state }, 202);
    const host = await gw.host(id);
    if (host.ws.status() === "hibernated") void gw.archiveWorkspace(host).catch(() => undefined);
    else await host.ws.lifecycle.hibernate(principal.name);
    gw.metrics.inc("atelier_lifecycle_requests_total", "Lifecycle requests accepted", { action: "hibernate" });
    return c.json({ id, state: host.ws.status() }, 202);
  });
  // A hibernated workspace is restored from its archive before this answers (or a 503 says why
  // it could not be, and nothing was opened); an open one is asked to resume.
  app.post("/workspaces/:id/resume", async (c) => {
    noQuery(c);
    requirePermission(c, "write");
    const id = params(c, WorkspaceParams).id;
    await emptyBody(c);
    gw.metrics.inc("atelier_lifecycle_requests_total", "Lifecycle requests accepted", { action: "resume" });
    if (await gw.asleep(id)) {
      const host = await gw.resume(id);
      return c.json({ id, state: host.ws.status() }, 200);
    }
    const host = await gw.host(id);
    await host.ws.lifecycle.resume();
    return c.json({ id, state: host.ws.status() }, 202);
  });
  app.post("/workspaces/:id/renew", lifecycle("renew", "write", (h) => h.ws.lifecycle.renew()));
  // A workspace in error (its hibernation or resume failed) runs again on a person's word; 409 in any other state.
  app.post("/workspaces/:id/restart", lifecycle("restart", "write", (h, by) => h.ws.lifecycle.restart(by)));
  // Read models whose rows differ from the log (`atelier check` says which tables), replaced by a
  // rebuild from the log while the workspace is served; answers once the new file has caught up.
  app.post("/workspaces/:id/read-models/rebuild", async (c) => {
    noQuery(c);
    requirePermission(c, "manage");
    const id = params(c, WorkspaceParams).id;
    await emptyBody(c);
    const host = await gw.host(id);
    await host.projection.rebuild();
    gw.metrics.inc("atelier_read_model_rebuilds_total", "Read models rebuilt on request while served");
    return c.json({ id, seq: host.projection.seq });
  });
  // A workspace in the archive is restored first: its end is an event in its own log.
  app.delete("/workspaces/:id", lifecycle("terminate", "manage", (h, by) => h.ws.lifecycle.terminate(by), { wake: true }));

  app.put("/workspaces/:id/summary", async (c) => {
    noQuery(c);
    const principal = requirePermission(c, "write");
    const host = await gw.host(params(c, WorkspaceParams).id);
    const input = await body(c, SummaryBody);
    if (input.messageCursor > host.head) throw badRequest(`messageCursor ${input.messageCursor} is past the log's head ${host.head}`);
    const previous = host.ws.context.get(SUMMARY_KEY)?.value as { summaryVersion?: number } | undefined;
    const summary = { text: input.text, summaryVersion: (previous?.summaryVersion ?? 0) + 1, messageCursor: input.messageCursor };
    await host.ws.context.set(SUMMARY_KEY, summary, principal.name);
    return c.json(summary);
  });

  return app;
};
