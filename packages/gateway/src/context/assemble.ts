import { listMessages } from "@atelier/projections";
import type { PromptContext } from "../protocol/runner.ts";
import type { WorkspaceHost } from "../server/host.ts";

/** The shared-context key of the latest milestone summary, and the bus channel of file edits. */
export const SUMMARY_KEY = "summary";
export const ARTIFACT_CHANNEL = "file_modified";

export interface ContextLimits {
  /** 003: the recent window holds at most this many messages (default 50)... */
  readonly windowMessages: number;
  /** ...and at most about this many tokens (estimated at 4 characters a token). */
  readonly windowTokens: number;
  readonly artifacts: number;
}

export const DEFAULT_CONTEXT_LIMITS: ContextLimits = { windowMessages: 50, windowTokens: 8000, artifacts: 20 };

const estimateTokens = (text: string): number => Math.ceil(text.length / 4);

const summaryOf = (value: unknown): PromptContext["summary"] => {
  const v = value as { text?: unknown; summaryVersion?: unknown; messageCursor?: unknown } | undefined;
  return typeof v?.text === "string" && typeof v.summaryVersion === "number" && typeof v.messageCursor === "number"
    ? { text: v.text, summaryVersion: v.summaryVersion, messageCursor: v.messageCursor }
    : { text: "", summaryVersion: 0, messageCursor: 0 };
};

/**
 * 003's context assembly, without semantic search: the agent's focus prompt, the latest summary
 * (with its version and the last message it covers), the recent messages after that cursor
 * (newest kept first when the token cap bites, then put back in order), and the artifacts block:
 * files that tools changed, newest first.
 */
export const assembleContext = (host: WorkspaceHost, agent: string, limits: ContextLimits = DEFAULT_CONTEXT_LIMITS): PromptContext => {
  const summary = summaryOf(host.ws.context.get(SUMMARY_KEY)?.value);
  const window: PromptContext["messages"][number][] = [];
  let tokens = 0;
  let before: number | undefined;
  scan: while (window.length < limits.windowMessages) {
    const page = listMessages(host.projection, { limit: limits.windowMessages, ...(before !== undefined ? { before } : {}) });
    for (const m of page.items) {
      if (m.seq <= summary.messageCursor) break scan;
      if (m.channel === ARTIFACT_CHANNEL) continue;
      tokens += estimateTokens(m.body);
      if (tokens > limits.windowTokens || window.length === limits.windowMessages) break scan;
      window.push({ seq: m.seq, author: m.author, text: m.body });
    }
    if (page.next === undefined) break;
    before = page.next;
  }
  const artifacts = listMessages(host.projection, { channel: ARTIFACT_CHANNEL, limit: limits.artifacts }).items.flatMap((m) => {
    const body = JSON.parse(m.body) as { file?: unknown };
    return typeof body.file === "string" ? [{ file: body.file, agent: m.agent, seq: m.seq }] : [];
  });
  return { focus: host.ws.agents.get(agent)?.focusPrompt ?? "", summary, messages: window.reverse(), artifacts };
};
