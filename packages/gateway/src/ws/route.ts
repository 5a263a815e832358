import { Hono, type Context } from "hono";
import type { UpgradeWebSocket, WSEvents } from "hono/ws";
import type { WebSocket } from "ws";
import { Schema } from "effect";
import { bearerOf } from "../auth/middleware.ts";
import { can } from "../auth/roles.ts";
import { ApiError, badRequest, forbidden, notFound, toApiError, unauthorized } from "../http/errors.ts";
import type { Gateway } from "../server/gateway.ts";
import { params, query } from "../routes/input.ts";
import { AgentId, Digits, WorkspaceParams } from "../routes/schemas.ts";
import { ClientSession } from "./client.ts";
import { ReplaySession } from "./replay.ts";
import { RunnerSession } from "./runner.ts";
import { closeCodeOf, closeWith } from "./socket.ts";

const WsQuery = Schema.Struct({
  role: Schema.optional(Schema.Literals(["client", "runner"])),
  mode: Schema.optional(Schema.Literals(["live", "replay"])),
  agent: Schema.optional(AgentId),
  token: Schema.optional(Schema.String.check(Schema.isMaxLength(200))),
  since: Schema.optional(Digits),
  from: Schema.optional(Digits),
  speed: Schema.optional(Schema.String.check(Schema.isPattern(/^\d{1,5}(?:\.\d{1,3})?$/, { expected: "a speed such as 1, 10 or 0.5" }))),
});

/** Same-origin, no Origin at all (not a browser), or explicitly allowed: the CSWSH defence (F26). */
const originAllowed = (c: Context, allowed: readonly string[]): boolean => {
  const origin = c.req.header("origin");
  if (origin === undefined) return true;
  if (allowed.includes(origin)) return true;
  try {
    return new URL(origin).host === c.req.header("host");
  } catch {
    return false;
  }
};

type Events = WSEvents<WebSocket>;

/** A socket that is accepted only to be closed with the reason, which browsers can read. */
const refusal = (error: ApiError): Events => ({ onOpen: (_e, ws) => closeWith(ws, closeCodeOf(error), error.message) });

/** Decides what a WebSocket request is (client, runner or replay) and who sent it; throws ApiError. */
const classify = async (gw: Gateway, c: Context): Promise<(ws: Parameters<NonNullable<Events["onOpen"]>>[1]) => Events> => {
  const id = params(c, WorkspaceParams).id;
  const q = query(c, WsQuery);
  const secret = q.token ?? bearerOf(c.req.header("authorization"));
  if (secret === undefined) throw unauthorized("a token is required (?token= or Authorization: Bearer)");
  const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));

  if (q.role === "runner") {
    if (q.agent === undefined) throw badRequest("role=runner needs agent=<id>");
    if (q.mode !== undefined || q.since !== undefined || q.from !== undefined || q.speed !== undefined) throw badRequest("role=runner takes only agent and token");
    // Credentials first: opening a workspace (one closed, or not opened yet since the start) costs seconds.
    if (!gw.runnerTokens.verify(id, q.agent, secret)) throw unauthorized(`not the runner token of ${q.agent}`);
    const host = await gw.host(id).catch((error: unknown) => {
      // In the archive: not now rather than never (4409 is final for a runner). With 4503 the
      // runner keeps retrying, at most 10 s apart, and is back soon after the workspace resumes.
      if (error instanceof ApiError && error.code === "hibernated") throw new ApiError(503, "hibernated", error.message, error.details);
      throw error;
    });
    if (!host.ws.agents.get(q.agent)) throw notFound(`no agent ${q.agent} in workspace ${host.id}`);
    const agent = q.agent;
    return (ws) => {
      const session = new RunnerSession(gw, host, agent, secret, ws);
      return { onMessage: (e) => session.message(e.data), onClose: () => session.closed(), onOpen: () => void session.open() };
    };
  }

  const principal = gw.tokens.verify(secret);
  if (!principal) throw unauthorized("the token is unknown, expired or revoked");
  if (!can(principal.role, "read")) throw forbidden(`role ${principal.role} may not read`);
  if (q.agent !== undefined) throw badRequest("agent is only for role=runner");
  const host = await gw.host(id);
  if (q.mode === "replay") {
    if (q.since !== undefined) throw badRequest("mode=replay takes from, not since");
    const speed = num(q.speed) ?? 1;
    if (speed <= 0) throw badRequest("speed must be > 0");
    const from = Math.max(1, num(q.from) ?? 1);
    return (ws) => {
      const session = new ReplaySession(gw, host, ws, principal, from, speed);
      return { onMessage: (e) => session.message(e.data), onClose: () => session.closed(), onOpen: () => session.open() };
    };
  }
  if (q.from !== undefined || q.speed !== undefined) throw badRequest("from and speed are only for mode=replay");
  const since = num(q.since);
  return (ws) => {
    const session = new ClientSession(gw, host, ws, principal);
    return {
      onMessage: (e) => void session.message(e.data).catch((error: unknown) => gw.log(`client frame: ${String(error)}`)),
      onClose: () => session.closed(),
      onOpen: () => session.open(since),
    };
  };
};

/**
 * `GET /workspaces/:id/ws`. A bad Origin is refused before the upgrade (403). Anything else that
 * is wrong (parameters, token, workspace, agent) is accepted and closed at once with 4000 +
 * status and the reason, because a browser cannot read the body of a refused upgrade.
 */
export const wsRoutes = (gw: Gateway, upgradeWebSocket: UpgradeWebSocket<WebSocket>) => {
  const app = new Hono();
  app.get(
    "/workspaces/:id/ws",
    async (c, next) => {
      if (c.req.header("upgrade")?.toLowerCase() !== "websocket") throw new ApiError(426, "upgrade_required", "this endpoint speaks WebSocket only");
      if (!originAllowed(c, gw.options.origins ?? [])) throw forbidden(`origin ${c.req.header("origin")} is not allowed`);
      await next();
    },
    upgradeWebSocket(async (c) => {
      let attach: Awaited<ReturnType<typeof classify>>;
      try {
        attach = await classify(gw, c);
      } catch (error) {
        const e = toApiError(error);
        if (!e) throw error;
        gw.metrics.inc("atelier_ws_refused_total", "WebSocket connections refused", { code: e.code });
        return refusal(e);
      }
      // The events object must exist before the socket does; the session binds on open.
      let events: Events | undefined;
      // A workspace that hibernates (or whose log failed) closes its host: its sockets are closed
      // (1012, service restart) with why, and reconnect once it is served again.
      const host = gw.hosts.get(params(c, WorkspaceParams).id);
      let off: (() => void) | undefined;
      return {
        onOpen: (e, ws) => {
          events = attach(ws);
          off = host && gw.attach(host, (reason) => closeWith(ws, 1012, reason));
          events.onOpen?.(e, ws);
        },
        onMessage: (e, ws) => events?.onMessage?.(e, ws),
        onClose: (e, ws) => {
          off?.();
          events?.onClose?.(e, ws);
        },
      };
    }),
  );
  return app;
};
