import { Hono } from "hono";
import type { Gateway } from "../server/gateway.ts";

/** Liveness and Prometheus metrics: unauthenticated, and so free of workspace ids. */
export const systemRoutes = (gw: Gateway) => {
  const app = new Hono();
  app.get("/healthz", (c) => c.json({ ok: true, workspaces: gw.hosts.size, opening: gw.stillOpening, unavailable: gw.unavailable.size }));
  app.get("/metrics", (c) => c.text(gw.metrics.render(), 200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" }));
  return app;
};
