export * from "./envelope.ts";
export * from "./errors.ts";
export * from "./catalogue/index.ts";
export * from "./services/index.ts";
export * from "./storage/index.ts";
export * from "./log/index.ts";
export * from "./mirror/index.ts";
export * from "./archive/index.ts";
