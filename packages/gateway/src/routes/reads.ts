import { Hono, type Context } from "hono";
import { agentMetrics, listLocks, listMessages, lockContention, lockTree, openTasks, sharedContext, timelinePage } from "@atelier/projections";
import type { AppEnv } from "../auth/middleware.ts";
import { requirePermission } from "../auth/middleware.ts";
import { badRequest } from "../http/errors.ts";
import type { Gateway } from "../server/gateway.ts";
import { noQuery, params, query } from "./input.ts";
import { EventsQuery, LocksQuery, MessagesQuery, SnapshotQuery, TimelineQuery, WorkspaceParams, num } from "./schemas.ts";

const DEFAULT_EVENTS = 500;

/** Read-only views of a workspace's projection and log: what the studio draws and replays. */
export const readRoutes = (gw: Gateway) => {
  const app = new Hono<AppEnv>();
  /** The workspace named by the path, after the caller's read permission is checked. */
  const readable = (c: Context<AppEnv>) => {
    requirePermission(c, "read");
    return gw.host(params(c, WorkspaceParams).id);
  };

  app.get("/workspaces/:id/locks", async (c) => {
    const q = query(c, LocksQuery);
    const host = await readable(c);
    return c.json(q.view === "tree" ? { tree: lockTree(host.projection) } : { items: listLocks(host.projection) });
  });

  app.get("/workspaces/:id/messages", async (c) => {
    const q = query(c, MessagesQuery);
    const host = await readable(c);
    const page = listMessages(host.projection, {
      ...(q.agent ? { agent: q.agent } : {}),
      ...(q.before ? { before: num(q.before) } : {}),
      ...(q.limit ? { limit: num(q.limit) } : {}),
    });
    return c.json({ items: page.items, next: page.next ?? null });
  });

  /**
   * The timeline index, oldest first from `from`, or newest first below `before` (the latest events of a kind);
   * `next` is the `from` (or `before`) of the following page.
   */
  app.get("/workspaces/:id/timeline", async (c) => {
    const q = query(c, TimelineQuery);
    if (q.from !== undefined && q.before !== undefined) throw badRequest("from and before exclude each other: from pages oldest first, before newest first");
    const host = await readable(c);
    const backward = q.before !== undefined;
    const page = timelinePage(host.projection, {
      ...(backward ? { before: num(q.before) } : { after: Math.max(0, (num(q.from) ?? 1) - 1) }),
      ...(q.limit ? { limit: num(q.limit) } : {}),
      ...(q.type ? { type: q.type } : {}),
      ...(q.agent ? { agent: q.agent } : {}),
      ...(q.entity ? { entity: q.entity } : {}),
    });
    const next = page.next === undefined ? null : backward ? page.next : page.next + 1;
    return c.json({ items: page.items, next, lastSeq: host.projection.seq });
  });

  /** Whole envelopes (payloads included) from the log, for replay in the browser. */
  app.get("/workspaces/:id/events", async (c) => {
    const q = query(c, EventsQuery);
    const host = await readable(c);
    const from = Math.max(1, num(q.from) ?? 1);
    const limit = num(q.limit) ?? DEFAULT_EVENTS;
    const head = host.head;
    const items = [...host.ws.log.read({ from, to: Math.min(head, from + limit - 1) })];
    const last = items.at(-1)?.seq ?? from - 1;
    return c.json({ items, next: last < head ? last + 1 : null, head });
  });

  /**
   * Every actor's state at a stored seq at or before `at` (else the oldest stored one; `world` is
   * null when none is stored): a studio folds only the history after it instead of the whole log.
   */
  app.get("/workspaces/:id/snapshot", async (c) => {
    const q = query(c, SnapshotQuery);
    const host = await readable(c);
    return c.json({ world: host.ws.snapshotNear(Number(q.at)) ?? null });
  });

  app.get("/workspaces/:id/metrics", async (c) => {
    noQuery(c);
    const { projection } = await readable(c);
    return c.json({ items: agentMetrics(projection) });
  });

  app.get("/workspaces/:id/contention", async (c) => {
    noQuery(c);
    const { projection } = await readable(c);
    return c.json(lockContention(projection));
  });

  // The read models keep task data and context values as JSON text; the API answers with the values themselves.
  app.get("/workspaces/:id/tasks", async (c) => {
    noQuery(c);
    const { projection } = await readable(c);
    return c.json({ items: openTasks(projection).map((task) => ({ ...task, data: task.data === null ? null : (JSON.parse(task.data) as unknown) })) });
  });

  app.get("/workspaces/:id/context", async (c) => {
    noQuery(c);
    const { projection } = await readable(c);
    return c.json({ items: sharedContext(projection).map((entry) => ({ ...entry, value: JSON.parse(entry.value) as unknown })) });
  });

  return app;
};
