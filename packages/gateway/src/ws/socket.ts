import type { Schema } from "effect";
import type { WSContext } from "hono/ws";
import type { WebSocket } from "ws";
import { badRequest, type ApiError } from "../http/errors.ts";
import { decodeInput, parseJson } from "../http/validate.ts";

export type Socket = WSContext<WebSocket>;

/** Close codes: 4000 + the HTTP status of the same refusal (4400 bad frame, 4401, 4403, ...). */
export const closeCodeOf = (error: ApiError): number => 4000 + error.status;

/** A close reason is at most 123 bytes of UTF-8 (RFC 6455 §5.5). */
export const reasonText = (reason: string): string => {
  const bytes = Buffer.from(reason);
  if (bytes.length <= 123) return reason;
  return bytes.subarray(0, 120).toString("utf8").replace(/\uFFFD+$/, "") + "...";
};

export const closeWith = (ws: Socket, code: number, reason: string): void => {
  if (ws.readyState === 2 || ws.readyState === 3) return;
  ws.close(code, reasonText(reason));
};

/** Decodes one text frame as JSON against `schema`, or throws a 400 that says what is wrong. */
export const decodeFrame = <S extends Schema.Top>(schema: S, data: unknown): S["Type"] => {
  if (typeof data !== "string") throw badRequest("binary frames are not accepted; send JSON text");
  return decodeInput(schema, parseJson(data, "frame"), "frame");
};

/** The answer frame for a refusal that does not end the socket. */
export const errorFrame = (error: ApiError, ref?: string) =>
  JSON.stringify({ type: "error", ...(ref !== undefined ? { ref } : {}), status: error.status, code: error.code, message: error.message });

