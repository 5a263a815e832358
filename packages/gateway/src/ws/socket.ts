import type { Schema } from "effect";
import type { WSContext } from "hono/ws";
import type { WebSocket } from "ws";
import { badRequest, type ApiError } from "../http/errors.ts";
import { decodeInput, parseJson } from "../http/validate.ts";
import type { Gateway, Session } from "../server/gateway.ts";
import { RateLimiter } from "../server/limits.ts";
import type { Metrics } from "../server/metrics.ts";

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


/** What admitting an incoming frame needs from a session. */
export interface FrameGate {
  readonly role: "client" | "runner" | "replay";
  readonly limiter: RateLimiter;
  readonly metrics: Metrics;
  /** Rechecked on every frame when given, so a token revoked mid-stream ends the socket. */
  readonly credentials?: () => boolean;
  end(code: number, reason: string): void;
}

/** The gate of a socket opened with an API token (studio, replay): the person's rate, the token rechecked per frame. */
export const tokenGate = (gw: Gateway, role: "client" | "replay", session: Session): FrameGate => ({
  role,
  limiter: new RateLimiter(gw.limits.clientRate, () => gw.clock.now()),
  metrics: gw.metrics,
  credentials: () => session.stillValid(),
  end: (code, reason) => session.end(code, reason),
});

/**
 * Every socket's checks on an incoming frame, in order: rate, credentials, shape. Returns the
 * decoded frame, or undefined once it has ended the session with the close code that says why.
 */
export const admitFrame = <S extends Schema.Top>(gate: FrameGate, schema: S, data: unknown): S["Type"] | undefined => {
  gate.metrics.inc("atelier_ws_frames_in_total", "Frames received on WebSockets", { role: gate.role });
  if (!gate.limiter.take()) return gate.end(4429, "rate limit exceeded");
  if (gate.credentials && !gate.credentials()) return gate.end(4401, "token revoked or expired");
  try {
    return decodeFrame(schema, data);
  } catch (error) {
    const e = error as ApiError;
    gate.metrics.inc("atelier_ws_bad_frames_total", "Frames refused as malformed", { role: gate.role });
    return gate.end(closeCodeOf(e), e.message);
  }
};
