import type { Context } from "hono";
import type { Schema } from "effect";
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
