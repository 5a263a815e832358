import { assign, setup } from "xstate";
import type { Ev } from "../events.ts";

export interface SharedEntry {
  readonly value: unknown;
  readonly updatedBy: string;
  readonly updatedAt: number;
}
export interface SharedContextState {
  readonly entries: Readonly<Record<string, SharedEntry>>;
}

export type SharedContextEvent = Ev<"context.updated" | "context.deleted">;

/** The coordinator's shared context (000 §3.6): key → { value, updatedBy, updatedAt }. */
export const sharedContextMachine = setup({
  types: { context: {} as SharedContextState, events: {} as SharedContextEvent },
  guards: { has: ({ context, event }) => event.type === "context.deleted" && event.payload.key in context.entries },
  actions: {
    set: assign(({ context, event }) => {
      if (event.type !== "context.updated") return {};
      const { key, value, updatedBy, at } = event.payload;
      return { entries: { ...context.entries, [key]: { value, updatedBy, updatedAt: at } } };
    }),
    remove: assign(({ context, event }) => {
      if (event.type !== "context.deleted") return {};
      const { [event.payload.key]: _gone, ...entries } = context.entries;
      return { entries };
    }),
  },
}).createMachine({
  id: "context",
  context: { entries: {} },
  initial: "ready",
  states: {
    ready: { on: { "context.updated": { actions: "set" }, "context.deleted": { guard: "has", actions: "remove" } } },
  },
});
