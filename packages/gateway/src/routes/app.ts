import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { createNodeWebSocket } from "@hono/node-ws";
import { authenticate, type AppEnv } from "../auth/middleware.ts";
import { ApiError, notFound, toApiError, tooLarge } from "../http/errors.ts";
import { repairDamagedReadModels } from "../http/read-models.ts";
import type { Gateway } from "../server/gateway.ts";
import { wsRoutes } from "../ws/route.ts";
import { agentRoutes } from "./agents.ts";
import { readRoutes } from "./reads.ts";
import { systemRoutes } from "./system.ts";
import { tokenRoutes } from "./tokens.ts";
import { workspaceRoutes } from "./workspaces.ts";

/**
 * The HTTP surface: `/healthz`, `/metrics`, and `/api/v2` (the WebSocket route first, since it
 * authenticates itself; everything after it needs a bearer token). `web` serves the studio.
 * Returns the app with the WebSocket plumbing to attach to the HTTP server.
 */
export const createApp = (gw: Gateway, web?: Hono) => {
  const app = new Hono();
  const { upgradeWebSocket, injectWebSocket, wss } = createNodeWebSocket({ app });
  // @hono/node-ws leaves ws's 100 MiB default; a frame over the limit closes with 1009. ws
  // closes without a reason, so each socket's close is wrapped to say why.
  wss.options.maxPayload = gw.limits.maxFrameBytes;
  const tooBig = `frame exceeds the ${gw.limits.maxFrameBytes}-byte limit`;
  wss.on("connection", (socket) => {
    const close = socket.close.bind(socket);
    socket.close = (code?: number, reason?: string | Buffer) => close(code, code === 1009 && !reason ? tooBig : reason);
  });
  app.onError((error, c) => {
    const e = toApiError(error);
    const status = e?.status ?? 500;
    gw.metrics.inc("atelier_http_errors_total", "HTTP requests answered with an error", { status: String(status) });
    if (e) return c.json(e.toJSON(), e.status);
    gw.log(`${c.req.method} ${c.req.path}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return c.json(new ApiError(500, "internal", "internal error").toJSON(), 500);
  });
  app.notFound((c) => c.json(notFound(`no route ${c.req.method} ${c.req.path}`).toJSON(), 404));
  app.use("*", async (c, next) => {
    await next();
    gw.metrics.inc("atelier_http_requests_total", "HTTP requests", { method: c.req.method, status: String(c.res.status) });
  });
  app.route("/", systemRoutes(gw));

  const api = new Hono<AppEnv>();
  api.route("/", wsRoutes(gw, upgradeWebSocket));
  api.use(
    "*",
    bodyLimit({ maxSize: gw.limits.maxBodyBytes, onError: () => { throw tooLarge(`request body over ${gw.limits.maxBodyBytes} bytes`); } }),
    authenticate(gw.tokens),
    repairDamagedReadModels(gw),
  );
  api.route("/", tokenRoutes(gw));
  api.route("/", workspaceRoutes(gw));
  api.route("/", agentRoutes(gw));
  api.route("/", readRoutes(gw));
  app.route("/api/v2", api);
  if (web) app.route("/", web);
  return { app, injectWebSocket, wss };
};
