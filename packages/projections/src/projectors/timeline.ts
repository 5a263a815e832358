import type { Envelope } from "@atelier/events";
import { type Stmt } from "./sql.ts";

const AGENT_ENTITIES = ["agent:", "prompts:"];
/** Payload fields that name the acting agent (lock and prompt events, bus senders, context writers). */
const AGENT_FIELDS = ["agent", "sender", "updatedBy", "deletedBy"];

/** The agent an event concerns: the envelope's, else the payload's, else its agent or prompt-queue entity. */
export const agentOf = (event: Envelope): string | null => {
  if (event.agent !== undefined) return event.agent;
  const payload = event.payload as Record<string, unknown> | null;
  for (const field of AGENT_FIELDS) {
    const value = payload?.[field];
    if (typeof value === "string") return value;
  }
  for (const prefix of AGENT_ENTITIES) if (event.entity.startsWith(prefix)) return event.entity.slice(prefix.length);
  return null;
};

const TIMELINE = "INSERT INTO timeline (seq, ts, type, entity, agent) VALUES (?, ?, ?, ?, ?)";

/** Every event's row in the timeline index. */
export const timelineRow = (event: Envelope): Stmt => ({
  sql: TIMELINE,
  params: [event.seq, event.ts, event.type, event.entity, agentOf(event)],
});
