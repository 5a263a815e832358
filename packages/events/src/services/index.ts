export * from "./clock.ts";
export * from "./random.ts";
export * from "./crypto-random.ts";
