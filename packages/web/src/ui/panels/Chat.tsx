/** Chat: prompts with attribution, pending in queue order, streaming, answers. */
import { createMemo, createSignal, For, Show } from "solid-js";
import type { AgentView, ChatItem, View } from "../../model/view.ts";
import { colorOf } from "../../model/colors.ts";
import { AgentName, Avatar, fmtCost, fmtCount, fmtTime, fmtTokens, StatusBadge } from "../Badges.tsx";
import type { Session } from "../session.ts";
import type { ToolUse } from "../../api/live.ts";

/** Why a prompt was cancelled (prompt.cancelled's reason), in words. */
const CANCELLED: Record<string, string> = {
  user: "cancelled by a user",
  interrupted: "cancelled: a newer message interrupted it",
  workspace_terminated: "cancelled: the workspace was terminated",
};

/** An answer's text: the result, or what ended the prompt otherwise. */
const outcomeText = (status: string, text: string): string =>
  status === "completed" ? text : status === "cancelled" ? (CANCELLED[text] ?? `cancelled: ${text}`) : `${status}: ${text}`;

/** Consecutive tool calls of one kind collapse into one card. */
const ToolCards = (p: { tools: readonly ToolUse[] }) => {
  const groups = () => {
    const out: { tool: string; items: ToolUse[] }[] = [];
    for (const t of p.tools) {
      const last = out.at(-1);
      if (last && last.tool === t.tool) last.items.push(t);
      else out.push({ tool: t.tool, items: [t] });
    }
    return out;
  };
  return (
    <div class="tools" data-testid="tools">
      <For each={groups()}>
        {(g) => (
          <span class={`tool tool-${g.tool}`} title={g.items.map((t) => `${t.tool}${t.file ? ` ${t.file}` : ""}: ${t.summary}`).join("\n")}>
            {g.tool}
            {g.items.length > 1 ? ` ×${g.items.length}` : ""}
            <Show when={g.items[g.items.length - 1]!.file}>
              <span class="muted"> {g.items[g.items.length - 1]!.file}</span>
            </Show>
          </span>
        )}
      </For>
    </div>
  );
};

/** Takes back a queued or running prompt, when the page may. */
const CancelButton = (p: { item: ChatItem; onCancel: ((item: ChatItem) => void) | undefined }) => (
  <Show when={p.onCancel}>
    {(cancel) => (
      <button class="link" onClick={() => cancel()(p.item)}>
        cancel
      </button>
    )}
  </Show>
);

const agentInfo = (view: View, id: string): AgentView | undefined => view.agents.find((a) => a.id === id);

export const Chat = (p: { session: Session; onCancel?: (item: ChatItem) => void }) => {
  let box: HTMLDivElement | undefined;
  const [stick, setStick] = createSignal(true);
  const ordered = createMemo(() => {
    const chat = p.session.view().chat;
    const done = chat.filter((c) => c.status !== "queued");
    const queued = chat.filter((c) => c.status === "queued").sort((a, b) => (a.position ?? 0) - (b.position ?? 0) || a.seq - b.seq);
    return [...done, ...queued];
  });
  const scroll = () => {
    if (box && stick()) queueMicrotask(() => box && (box.scrollTop = box.scrollHeight));
  };
  createMemo(() => {
    ordered();
    p.session.streams();
    scroll();
  });
  return (
    <section class="panel chat" aria-label="Chat">
      <h2>Chat</h2>
      <div
        class="messages"
        ref={box}
        data-testid="chat"
        onScroll={(e) => {
          const el = e.currentTarget;
          setStick(el.scrollHeight - el.scrollTop - el.clientHeight < 40);
          if (el.scrollTop === 0 && p.session.view().chatHidden > 0) p.session.showMoreChat();
        }}
      >
        <Show when={p.session.view().chatHidden > 0}>
          <button class="link more" onClick={() => p.session.showMoreChat()}>
            {p.session.view().chatHidden} earlier messages…
          </button>
        </Show>
        <For each={ordered()} fallback={<div class="empty">No messages yet. Send a prompt to an agent below.</div>}>
          {(item) => {
            const info = () => agentInfo(p.session.view(), item.agent);
            const stream = () => p.session.streams().get(item.promptId);
            const tools = () => p.session.tools().get(item.promptId) ?? [];
            return (
              <div class={`msg-group status-${item.status}`} data-testid="chat-item" data-prompt={item.promptId} data-agent={item.agent} data-status={item.status}>
                <div class="msg user">
                  <Avatar id={item.author} name={item.author} />
                  <div class="body">
                    <div class="meta">
                      <b>{item.author}</b> → <AgentName id={item.agent} /> <span class="muted">{fmtTime(item.at)}</span>
                    </div>
                    <div class="text">{item.text}</div>
                  </div>
                </div>
                <Show when={item.status === "queued"}>
                  <div class="pending" data-testid="pending">
                    pending{item.position ? ` · #${item.position} in ${item.agent}'s queue` : ""}
                    <CancelButton item={item} onCancel={p.onCancel} />
                  </div>
                </Show>
                <Show when={item.status === "processing"}>
                  <div class="msg agent streaming" style={{ "border-left-color": colorOf(item.agent) }} data-testid="streaming">
                    <div class="meta">
                      <AgentName id={item.agent} vendor={info()?.vendor} model={info()?.model} /> <StatusBadge status={info()?.status ?? "analyzing"} />
                      <CancelButton item={item} onCancel={p.onCancel} />
                    </div>
                    <Show when={tools().length > 0}>
                      <ToolCards tools={tools()} />
                    </Show>
                    <div class="text" data-testid="stream-text">
                      {stream() ?? (p.session.live && p.session.cursor() === null ? "" : "working…")}
                      <span class="caret">▍</span>
                    </div>
                  </div>
                </Show>
                <Show when={item.answer}>
                  {(ans) => (
                    <div class={`msg agent ${item.status}`} style={{ "border-left-color": colorOf(item.agent) }} data-testid="answer">
                      <div class="meta">
                        <AgentName id={item.agent} vendor={info()?.vendor} model={info()?.model} />
                        <span class="muted">
                          {fmtTime(ans().at)} · {Math.max(0, Math.round((ans().at - item.at) / 100) / 10)}s
                          <Show when={ans().tokens > 0}>
                            {" "}
                            · {fmtTokens(ans().tokens)} tok · {fmtCost(ans().cost)}
                          </Show>
                        </span>
                      </div>
                      <Show when={tools().length > 0}>
                        <details class="work">
                          <summary class="muted small">
                            worked {Math.max(0, Math.round((ans().at - item.at) / 100) / 10)}s · {fmtCount(tools().length, "tool call")}
                          </summary>
                          <ToolCards tools={tools()} />
                        </details>
                      </Show>
                      <div class="text">{outcomeText(item.status, ans().text)}</div>
                    </div>
                  )}
                </Show>
              </div>
            );
          }}
        </For>
      </div>
    </section>
  );
};
