import type { PromptHandle, PromptHandler } from "./connection.ts";

/** One step of an agent's part in the refactor: lock a file, work on it, let it go. */
export interface ScriptStep {
  readonly file: string;
  readonly mode: "shared" | "exclusive";
  readonly tool: "edit" | "read";
  readonly summary: string;
}

/**
 * The seed's collaborative refactor (000 §3.6) split between the four agents: everyone plans,
 * then edits under exclusive locks. Claude and Codex both need src/session.ts and Gemini and
 * Kimi need src/auth.ts after Claude, so the demo shows real waits as well as grants.
 */
export const refactorScript: Readonly<Record<string, readonly ScriptStep[]>> = {
  claude: [
    { file: "src/auth.ts", mode: "exclusive", tool: "edit", summary: "split token checks out of login()" },
    { file: "src/session.ts", mode: "exclusive", tool: "edit", summary: "move session handling out of auth.ts" },
  ],
  gemini: [
    { file: "src/auth.ts", mode: "shared", tool: "read", summary: "read the new auth API" },
    { file: "test/auth.test.ts", mode: "exclusive", tool: "edit", summary: "tests for the split login flow" },
  ],
  kimi: [
    { file: "docs/auth.md", mode: "exclusive", tool: "edit", summary: "document the session lifecycle" },
    { file: "src/auth.ts", mode: "shared", tool: "read", summary: "check the docs match the code" },
  ],
  codex: [
    { file: "src/middleware/auth.ts", mode: "exclusive", tool: "edit", summary: "use the new session API in middleware" },
    { file: "src/session.ts", mode: "exclusive", tool: "edit", summary: "add session expiry" },
  ],
};

/** Price per million output tokens by agent, for plausible cost reports. */
const PRICE: Readonly<Record<string, number>> = { claude: 15, gemini: 10, kimi: 2.5, codex: 10 };

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason as Error);
    const t = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => (clearTimeout(t), reject(signal.reason as Error)), { once: true });
  });

/**
 * A runner without a model: for any prompt it plays its agent's part of the refactor (an unknown
 * agent gets a one-file part), pausing `paceMs` between steps so a person can watch.
 */
export const scriptedHandler = (agent: string, paceMs = 400): PromptHandler => async (p: PromptHandle) => {
  const steps = refactorScript[agent] ?? [{ file: `notes/${agent}.md`, mode: "exclusive", tool: "edit", summary: "write down findings" }];
  p.status("analyzing");
  p.chunk(`Plan for "${p.text.slice(0, 80)}": ${steps.map((s) => `${s.tool} ${s.file}`).join(", ")}.`);
  await sleep(paceMs, p.signal);
  let tokensOut = 0;
  for (const step of steps) {
    const lock = await p.acquire(step.file, step.mode, { wait: true, timeoutMs: 60_000 });
    if (!lock.granted) {
      p.tool("lock", `denied: ${lock.message}`, step.file);
      p.chunk(`\nSkipped ${step.file}: ${lock.message}.`);
      continue;
    }
    p.tool("lock", `${step.mode} lock on ${step.file} (token ${lock.token})`, step.file);
    p.status(step.tool === "edit" ? "editing" : "analyzing");
    p.tool(step.tool, step.summary, step.file);
    p.chunk(`\n${step.tool === "edit" ? "Edited" : "Read"} ${step.file}: ${step.summary}.`);
    tokensOut += 300 + step.summary.length * 7;
    await sleep(paceMs, p.signal);
    await p.release(step.file);
  }
  p.status("indexing");
  const tokensIn = 1200 + p.context.messages.length * 40;
  return {
    text: `${agent}: done — ${steps.map((s) => s.summary).join("; ")}.`,
    tokensIn,
    tokensOut,
    cost: Math.round(((tokensOut * (PRICE[agent] ?? 5)) / 1e6 + (tokensIn * 1) / 1e6) * 1e6) / 1e6,
  };
};
