/**
 * One prompt sent to several agents at once (the composer's "all", the demo), with each agent's
 * outcome side by side: what UI.md calls comparing vendors on one task.
 */
import type { ChatItem, ChatStatus } from "./view.ts";

/** Prompts with the same author and text enqueued this close together count as one fan-out. */
export const FAN_OUT_WINDOW_MS = 5_000;

export interface SideBySideRow {
  readonly agent: string;
  readonly promptId: string;
  readonly status: ChatStatus;
  /** Enqueue to answer (queue wait included), once answered. */
  readonly answeredInMs: number | null;
  readonly tokens: number | null;
  readonly cost: number | null;
}

export interface SideBySide {
  readonly author: string;
  readonly text: string;
  /** Seq of the group's first prompt. */
  readonly seq: number;
  readonly rows: readonly SideBySideRow[];
}

const rowOf = (item: ChatItem): SideBySideRow => {
  const done = item.status === "completed" && item.answer !== undefined;
  return {
    agent: item.agent,
    promptId: item.promptId,
    status: item.status,
    answeredInMs: done ? item.answer!.at - item.at : null,
    tokens: done ? item.answer!.tokens : null,
    cost: done ? item.answer!.cost : null,
  };
};

/**
 * The newest `limit` fan-outs in `chat`, newest first: prompts of one author with one text sent to
 * two or more agents within FAN_OUT_WINDOW_MS of the first. An agent prompted again with the same
 * text starts a new group.
 */
export const sideBySide = (chat: readonly ChatItem[], limit = 3): SideBySide[] => {
  const groups: Array<{ author: string; text: string; seq: number; at: number; items: ChatItem[] }> = [];
  const open = new Map<string, (typeof groups)[number]>();
  for (const item of [...chat].sort((a, b) => a.seq - b.seq)) {
    const key = `${item.author}\u0000${item.text}`;
    let group = open.get(key);
    if (group === undefined || item.at - group.at > FAN_OUT_WINDOW_MS || group.items.some((i) => i.agent === item.agent)) {
      group = { author: item.author, text: item.text, seq: item.seq, at: item.at, items: [] };
      groups.push(group);
      open.set(key, group);
    }
    group.items.push(item);
  }
  return groups
    .filter((g) => g.items.length > 1)
    .slice(-limit)
    .reverse()
    .map((g) => ({ author: g.author, text: g.text, seq: g.seq, rows: g.items.map(rowOf) }));
};
