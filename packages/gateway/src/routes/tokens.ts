import { Hono } from "hono";
import type { AppEnv } from "../auth/middleware.ts";
import { requirePermission } from "../auth/middleware.ts";
import { notFound } from "../http/errors.ts";
import type { Gateway } from "../server/gateway.ts";
import { body, noQuery, params, query } from "./input.ts";
import { CreateTokenBody, TokenParams } from "./schemas.ts";

/** API tokens (owner only) and `GET /me`, which tells the studio what its token may do. */
export const tokenRoutes = (gw: Gateway) => {
  const app = new Hono<AppEnv>();

  app.get("/me", (c) => {
    noQuery(c);
    const p = c.get("principal");
    return c.json({ tokenId: p.tokenId, name: p.name, role: p.role });
  });

  app.get("/tokens", (c) => {
    noQuery(c);
    requirePermission(c, "manage");
    return c.json({ items: gw.tokens.list() });
  });

  app.post("/tokens", async (c) => {
    noQuery(c);
    requirePermission(c, "manage");
    const input = await body(c, CreateTokenBody);
    const { id, token } = gw.tokens.create(input.role, input.name ?? input.role, input.ttlMs);
    return c.json({ id, token, role: input.role }, 201);
  });

  app.delete("/tokens/:token", (c) => {
    noQuery(c);
    requirePermission(c, "manage");
    const { token } = params(c, TokenParams);
    if (!gw.tokens.revoke(token)) throw notFound(`no live token ${token}`);
    // Sockets opened with it close now, not at the next poll.
    gw.revalidate();
    return c.json({ id: token, revoked: true });
  });

  return app;
};
