import type { Context } from "hono";
import type { Schema } from "effect";
import { badRequest } from "../http/errors.ts";
import { decodeInput, parseJson } from "../http/validate.ts";

/** The path parameters, decoded strictly. */
export const params = <S extends Schema.Top>(c: Context, schema: S): S["Type"] => decodeInput(schema, c.req.param(), "path parameters");

/** The query string, decoded strictly; a repeated key is an error rather than a silent pick. */
export const query = <S extends Schema.Top>(c: Context, schema: S): S["Type"] => {
  const all = c.req.queries();
  const repeated = Object.keys(all).filter((k) => (all[k]?.length ?? 0) > 1);
  const single = Object.fromEntries(Object.entries(all).map(([k, v]) => [k, repeated.includes(k) ? v : v[0]]));
  return decodeInput(schema, single, "query string");
};

/** The JSON body, decoded strictly (an empty body is an empty object). */
export const body = async <S extends Schema.Top>(c: Context, schema: S): Promise<S["Type"]> => {
  const text = await c.req.text();
  return decodeInput(schema, text.trim() === "" ? {} : parseJson(text, "request body"), "request body");
};

/** A body that must be absent or `{}` (an empty Struct schema would let any object through). */
export const emptyBody = async (c: Context): Promise<void> => {
  const text = (await c.req.text()).trim();
  if (text === "") return;
  const value = parseJson(text, "request body");
  if (typeof value !== "object" || value === null || Array.isArray(value) || Object.keys(value).length > 0) {
    throw badRequest("this request takes no body (or {})", [{ path: "", issue: "expected an empty object" }]);
  }
};

/** A request that takes no query string (for the same reason as `emptyBody`). */
export const noQuery = (c: Context): void => {
  const keys = Object.keys(c.req.queries());
  if (keys.length > 0) throw badRequest(`unexpected query parameter(s): ${keys.join(", ")}`, keys.map((k) => ({ path: k, issue: "unexpected" })));
};
