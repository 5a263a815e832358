/**
 * The browser-safe entry `@atelier/actors/machines`: event definitions, pure machines and the
 * replay fold. Imports only xstate, effect and @atelier/events/schema — never node:*.
 */
export * from "./events.ts";
