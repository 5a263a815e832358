/**
 * The browser-safe part of @atelier/events: the envelope, the catalogue and the pure services.
 * Nothing here touches node:fs or node:crypto, so the web viewer can import it.
 */
export * from "./envelope.ts";
export * from "./errors.ts";
export * from "./catalogue/index.ts";
export * from "./services/clock.ts";
export * from "./services/random.ts";
