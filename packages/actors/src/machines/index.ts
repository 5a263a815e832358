/**
 * The browser-safe entry `@atelier/actors/machines`: event definitions, pure machines and the
 * replay fold. Imports only xstate, effect and @atelier/events/schema — never node:*.
 */
export * from "./events.ts";
export * from "./workspace/machine.ts";
export * from "./agent/machine.ts";
export * from "./lock/machine.ts";
export * from "./prompts/machine.ts";
export * from "./tasks/machine.ts";
export * from "./context/machine.ts";
export * from "./world.ts";
export * from "./timers.ts";
