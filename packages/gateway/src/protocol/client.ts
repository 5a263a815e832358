import { Schema } from "effect";
import type { Envelope } from "@atelier/events";
import { AgentId } from "../routes/schemas.ts";

/**
 * The studio protocol: JSON frames on `/api/v2/workspaces/:id/ws?role=client` (and, for the
 * replay viewer, `mode=replay`). Client → gateway frames are decoded with these schemas; a frame
 * that is not JSON or not one of them closes the socket with 4400 and a reason.
 */
const Id = Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(200));

export const ClientPing = Schema.Struct({ type: Schema.Literal("ping"), id: Schema.optional(Id) });
export const ClientPrompt = Schema.Struct({
  type: Schema.Literal("prompt"),
  agent: AgentId,
  text: Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(32_000)),
  clientRequestId: Schema.optional(Id),
  priority: Schema.optional(Schema.Number.check(Schema.isInt(), Schema.isGreaterThanOrEqualTo(-1000), Schema.isLessThanOrEqualTo(1000))),
  interrupt: Schema.optional(Schema.Boolean),
});
export const ClientCancel = Schema.Struct({ type: Schema.Literal("cancel"), agent: AgentId, promptId: Id });
export const ClientFrame = Schema.Union([ClientPing, ClientPrompt, ClientCancel]);
export type ClientFrame = typeof ClientFrame.Type;

/** Replay viewer controls. */
export const ReplayFrame = Schema.Union([
  ClientPing,
  Schema.Struct({ type: Schema.Literal("pause") }),
  Schema.Struct({ type: Schema.Literal("resume") }),
  Schema.Struct({ type: Schema.Literal("speed"), speed: Schema.Number.check(Schema.isGreaterThan(0), Schema.isLessThanOrEqualTo(10_000)) }),
]);
export type ReplayFrame = typeof ReplayFrame.Type;

/**
 * Gateway → client frames. `event` carries each committed envelope once, in seq order, gapless;
 * `resync` says the gap asked for with `since` cannot be sent and an `init` follows. `stream`
 * and `presence` are ephemeral: never stored, never replayed.
 */
export type GatewayToClient =
  | { type: "init"; lastSeq: number; [state: string]: unknown }
  | { type: "event"; event: Envelope }
  | { type: "resync"; reason: string }
  | { type: "stream"; agent: string; promptId: string; kind: "chunk"; text: string }
  | { type: "stream"; agent: string; promptId: string; kind: "tool"; tool: string; file?: string; summary: string }
  | { type: "presence"; action: "joined" | "left"; client: { id: string; name: string; role: string }; clients: unknown[] }
  | { type: "pong"; id?: string }
  | { type: "ack"; ref?: string; promptId: string; duplicate: boolean }
  | { type: "error"; ref?: string; status: number; code: string; message: string }
  | { type: "replay.start"; from: number; to: number; speed: number }
  | { type: "replay.end"; lastSeq: number };
