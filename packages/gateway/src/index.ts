/**
 * @atelier/gateway: the HTTP + WebSocket front door (REST under /api/v2, studio and runner
 * sockets, replay), auth, and the `atelier` CLI. The runner SDK is `@atelier/gateway/runner`.
 */
export { startServer, type RunningServer, type ServerOptions } from "./server/server.ts";
export { Gateway, type GatewayOptions, type CreateWorkspace } from "./server/gateway.ts";
export { DEFAULT_LIMITS, type Limits } from "./server/limits.ts";
export { assembleContext, DEFAULT_CONTEXT_LIMITS, type ContextLimits } from "./context/assemble.ts";
export type { Role, Permission } from "./auth/roles.ts";
export type { Principal, TokenInfo } from "./auth/tokens.ts";
export type { GatewayToClient, ClientFrame } from "./protocol/client.ts";
export type { GatewayToRunner, RunnerFrame, PromptContext } from "./protocol/runner.ts";
