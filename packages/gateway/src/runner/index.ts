/**
 * `@atelier/gateway/runner`: the SDK agent runners use to speak the runner protocol, and the
 * built-in scripted runner (the demo's four agents) built on it.
 *
 *   const runner = new RunnerClient({ url, workspace, agent, token }, async (prompt) => {
 *     prompt.status("analyzing");
 *     const lock = await prompt.acquire("src/auth.ts", "exclusive", { wait: true });
 *     ...
 *     return { text, tokensIn, tokensOut, cost };
 *   });
 */
export { RunnerClient, type RunnerOptions, type RunnerEvent, type PromptHandle, type PromptHandler, type PromptOutcome, type LockGrant } from "./connection.ts";
export { scriptedHandler, refactorScript, type ScriptStep } from "./scripted.ts";
export type { PromptContext } from "../protocol/runner.ts";
