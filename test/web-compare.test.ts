import { describe, expect, it } from "vitest";
import { sideBySide, type ChatItem } from "../packages/web/src/model/index.ts";

const item = (seq: number, agent: string, text: string, at: number, answer?: { at: number; tokens: number; cost: number }, author = "ada"): ChatItem => ({
  promptId: `pr_${seq}`,
  agent,
  author,
  text,
  seq,
  at,
  status: answer ? "completed" : "queued",
  position: answer ? null : 1,
  ...(answer ? { answer: { text: "done", seq: seq + 100, ...answer } } : {}),
});

describe("one prompt, several agents, side by side", () => {
  it("groups one author's text sent to several agents within the window, newest group first", () => {
    const chat = [
      item(1, "claude", "split auth", 1_000, { at: 4_000, tokens: 900, cost: 0.01 }),
      item(2, "gemini", "split auth", 1_001, { at: 2_500, tokens: 1_200, cost: 0.004 }),
      item(3, "kimi", "split auth", 1_002),
      // Alone: not a fan-out.
      item(4, "claude", "write docs", 9_000),
      // Same text again, much later: a second group, not the first one grown.
      item(5, "claude", "split auth", 60_000),
      item(6, "codex", "split auth", 60_500),
      // Another author's identical text is another prompt.
      item(7, "gemini", "split auth", 60_600, undefined, "bob"),
    ];
    const groups = sideBySide(chat);
    expect(groups.map((g) => [g.seq, g.rows.map((r) => r.agent)])).toEqual([
      [5, ["claude", "codex"]],
      [1, ["claude", "gemini", "kimi"]],
    ]);
    expect(groups[1]!.rows).toEqual([
      { agent: "claude", promptId: "pr_1", status: "completed", answeredInMs: 3_000, tokens: 900, cost: 0.01 },
      { agent: "gemini", promptId: "pr_2", status: "completed", answeredInMs: 1_499, tokens: 1_200, cost: 0.004 },
      { agent: "kimi", promptId: "pr_3", status: "queued", answeredInMs: null, tokens: null, cost: null },
    ]);
  });

  it("starts a new group when an agent gets the same text twice, and keeps the newest `limit` groups", () => {
    const chat = [item(1, "claude", "retry", 0), item(2, "gemini", "retry", 10), item(3, "claude", "retry", 20), item(4, "gemini", "retry", 30)];
    expect(sideBySide(chat).map((g) => g.seq)).toEqual([3, 1]);
    expect(sideBySide(chat, 1).map((g) => g.seq)).toEqual([3]);
  });
});
