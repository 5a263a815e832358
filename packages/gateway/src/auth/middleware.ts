import type { Context, MiddlewareHandler } from "hono";
import { can, type Permission } from "./roles.ts";
import type { Principal, TokenStore } from "./tokens.ts";
import { forbidden, unauthorized } from "../http/errors.ts";

/** What every authenticated route finds in its context. */
export interface AppEnv {
  Variables: { principal: Principal };
}

/** The secret of an `Authorization: Bearer <hex>` header, if that is what was sent. */
export const bearerOf = (header: string | undefined): string | undefined => /^Bearer\s+(\S+)$/i.exec(header ?? "")?.[1];

/** Resolves the bearer token to a principal, or answers 401. */
export const authenticate = (tokens: TokenStore): MiddlewareHandler<AppEnv> => async (c, next) => {
  const secret = bearerOf(c.req.header("authorization"));
  const principal = secret === undefined ? undefined : tokens.verify(secret);
  if (!principal) throw unauthorized(secret === undefined ? undefined : "the bearer token is unknown, expired or revoked");
  c.set("principal", principal);
  await next();
};

/** Throws 403 unless the caller's role grants `permission`. */
export const requirePermission = (c: Context<AppEnv>, permission: Permission): Principal => {
  const principal = c.get("principal");
  if (!can(principal.role, permission)) throw forbidden(`role ${principal.role} may not ${permission}`);
  return principal;
};
