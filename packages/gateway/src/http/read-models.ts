import type { MiddlewareHandler } from "hono";
import { isDamaged } from "@atelier/projections";
import type { Gateway } from "../server/gateway.ts";
import { ApiError } from "./errors.ts";

const WORKSPACE_PATH = /\/workspaces\/([^/]+)/;

/**
 * A query that finds a workspace's read models damaged (SQLite's SQLITE_CORRUPT) has them rebuilt
 * from the log, and is answered 503 meanwhile; the next request waits for the rebuild (`Gateway.host`).
 */
export const repairDamagedReadModels = (gw: Gateway): MiddlewareHandler => async (c, next) => {
  await next();
  if (!isDamaged(c.error)) return;
  const id = WORKSPACE_PATH.exec(c.req.path)?.[1];
  const host = id === undefined ? undefined : gw.hosts.get(decodeURIComponent(id));
  if (!host?.projection.repair(c.error)) return;
  const answer = new ApiError(503, "read_models_damaged", `workspace ${host.id}'s read models were found damaged; they are being rebuilt from its log, retry shortly`);
  c.res = c.json(answer.toJSON(), 503);
};
