import type { Envelope } from "@atelier/events";
import type { SqlValue } from "./sql.ts";

const AGENT_ENTITIES = ["agent:", "prompts:"];
/** Payload fields that name the acting agent (lock and prompt events, bus senders, context writers). */
const AGENT_FIELDS = ["agent", "sender", "updatedBy", "deletedBy"];

/** The agent an event concerns: the envelope's, else the payload's, else its agent or prompt-queue entity. */
const agentOf = (event: Envelope): string | null => {
  if (event.agent !== undefined) return event.agent;
  const payload = event.payload as Record<string, unknown> | null;
  for (const field of AGENT_FIELDS) {
    const value = payload?.[field];
    if (typeof value === "string") return value;
  }
  for (const prefix of AGENT_ENTITIES) if (event.entity.startsWith(prefix)) return event.entity.slice(prefix.length);
  return null;
};

export const TIMELINE_COLUMNS = 5;

/** Appends an event's timeline row (seq, ts, type, entity, agent) to `values`, names as their `code`. */
export const pushTimelineRow = (values: SqlValue[], event: Envelope, code: (name: string) => number): void => {
  const agent = agentOf(event);
  values.push(event.seq, event.ts, code(event.type), code(event.entity), agent === null ? null : code(agent));
};
