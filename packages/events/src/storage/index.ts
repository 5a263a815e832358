export * from "./storage.ts";
export { nodeStorage } from "./node.ts";
export { MemoryStorage, type StorageFault, type CrashOptions } from "./memory.ts";
