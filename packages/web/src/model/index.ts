/** The viewer's model: browser-safe, no DOM, no Solid (tests and benches import it from Node too). */
export * from "./timeline.ts";
export * from "./replay.ts";
export * from "./derived.ts";
export * from "./view.ts";
export * from "./compare.ts";
export * from "./colors.ts";
export * from "./generate.ts";
