/**
 * Every event the actors write, in one place: the names and payloads are the contract that
 * projections, the gateway and the web viewer key off. Each definition lives beside the machine
 * that accepts it; this file gathers them into `atelierCatalogue` and names the entities.
 */
import { makeCatalogue, type EventUnion } from "@atelier/events/schema";
import { agentEvents } from "./agent/events.ts";
import { busEvents } from "./bus-events.ts";
import { contextEvents } from "./context/events.ts";
import { lockEvents } from "./lock/events.ts";
import { promptEvents } from "./prompts/events.ts";
import { taskEvents } from "./tasks/events.ts";
import { workspaceEvents } from "./workspace/events.ts";

export * from "./schemas.ts";
export * from "./workspace/events.ts";
export * from "./agent/events.ts";
export * from "./lock/events.ts";
export * from "./prompts/events.ts";
export * from "./tasks/events.ts";
export * from "./context/events.ts";
export * from "./bus-events.ts";

export const atelierEvents = [
  ...workspaceEvents,
  ...agentEvents,
  ...lockEvents,
  ...promptEvents,
  ...taskEvents,
  ...contextEvents,
  ...busEvents,
] as const;

/** The catalogue of all actor events; open the log with it (or extend it). */
export const atelierCatalogue = makeCatalogue(...atelierEvents);

/** `{ type, payload }` for any actor event, discriminated by `type`. */
export type AtelierEvent = EventUnion<typeof atelierEvents>;
export type AtelierEventType = AtelierEvent["type"];
/** The event (or union of events) of the given type(s). */
export type Ev<T extends AtelierEventType> = Extract<AtelierEvent, { type: T }>;
export type PayloadFor<T extends AtelierEventType> = Ev<T>["payload"];

/**
 * Envelope `entity` of each actor. One workspace and one task queue and shared context per log;
 * one agent and one prompt queue per agent id; one lock per file path; one entity per channel.
 */
export const entities = {
  workspace: "workspace",
  agent: (agentId: string) => `agent:${agentId}`,
  lock: (path: string) => `lock:${path}`,
  prompts: (agentId: string) => `prompts:${agentId}`,
  tasks: "tasks",
  context: "context",
  channel: (name: string) => `channel:${name}`,
} as const;

export type EntityKind = "workspace" | "agent" | "lock" | "prompts" | "tasks" | "context" | "channel";

/** Splits an entity into its kind and key (`lock:src/a.ts` → lock, src/a.ts). */
export const parseEntity = (entity: string): { kind: EntityKind; key: string } => {
  const i = entity.indexOf(":");
  const kind = (i < 0 ? entity : entity.slice(0, i)) as EntityKind;
  return { kind, key: i < 0 ? "" : entity.slice(i + 1) };
};
