import { createMemo, createSignal, For, Show, type Accessor } from "solid-js";
import type { AgentView, ChatItem, LockView, View } from "../model/view.ts";
import { colorOf } from "../model/colors.ts";
import { AgentName, Avatar, Dot, fmtCost, fmtCount, fmtDuration, fmtTime, fmtTokens, StatusBadge } from "./Badges.tsx";
import type { Session } from "./session.ts";
import type { ToolUse } from "../api/live.ts";
import { laneOf } from "../model/derived.ts";

// ---------------------------------------------------------------------------------------------
// Agent panel: one badge per agent.

export const AgentPanel = (p: { session: Session }) => (
  <section class="panel agents" aria-label="Agents">
    <h2>Agents</h2>
    <ul>
      <For each={p.session.view().agents} fallback={<li class="empty">No agents yet</li>}>
        {(a: AgentView) => (
          <li class="agent-card" data-testid="agent-badge" data-agent={a.id} data-status={a.status} style={{ "border-left-color": colorOf(a.id) }}>
            <div class="row">
              <AgentName id={a.id} vendor={a.vendor} />
              <StatusBadge status={a.status} />
            </div>
            <div class="row small">
              <span class="model">{a.model}</span>
              <span title="queued prompts" data-testid="queue-depth">
                queue {a.queueDepth}
              </span>
            </div>
            <div class="row small muted">
              <span title={`in ${a.tokensIn} / out ${a.tokensOut}`}>{fmtTokens(a.tokensIn + a.tokensOut)} tok</span>
              <span>{fmtCost(a.cost)}</span>
              <span>{a.promptsDone} done</span>
            </div>
            <Show when={a.lastError}>
              <div class="error small">{a.lastError}</div>
            </Show>
          </li>
        )}
      </For>
    </ul>
  </section>
);

// ---------------------------------------------------------------------------------------------
// File tree with lock badges.

interface TreeNode {
  name: string;
  path: string;
  children: TreeNode[];
  file: boolean;
}

const buildTree = (paths: Iterable<string>): TreeNode => {
  const root: TreeNode = { name: "", path: "", children: [], file: false };
  for (const path of [...paths].sort()) {
    let node = root;
    const parts = path.split("/");
    parts.forEach((part, i) => {
      const file = i === parts.length - 1;
      const sub = parts.slice(0, i + 1).join("/");
      let child = node.children.find((c) => c.name === part && c.file === file);
      if (!child) {
        child = { name: part, path: sub, children: [], file };
        node.children.push(child);
      }
      node = child;
    });
  }
  const sort = (n: TreeNode) => {
    n.children.sort((a, b) => Number(a.file) - Number(b.file) || a.name.localeCompare(b.name));
    n.children.forEach(sort);
  };
  sort(root);
  return root;
};

export const LockBadge = (p: { lock: LockView; now: number }) => {
  const holder = () => p.lock.holders[0];
  const lease = () => Math.min(...p.lock.holders.map((h) => h.expiresAt)) - p.now;
  return (
    <Show when={p.lock.holders.length > 0 || p.lock.waiters.length > 0}>
      <span
        class={`lock-badge lock-${p.lock.state}`}
        data-testid="lock-badge"
        data-path={p.lock.path}
        data-mode={p.lock.state}
        data-holder={p.lock.holders.map((h) => h.agent).join(",")}
        data-waiters={p.lock.waiters.length}
        title={
          p.lock.holders.map((h) => `${h.agent} holds ${h.mode} (token ${h.token}), lease ${fmtDuration(h.expiresAt - p.now)}`).join("\n") +
          (p.lock.waiters.length ? `\nwaiting: ${p.lock.waiters.map((w) => `${w.agent} (${w.mode}) since ${fmtTime(w.since)}`).join(", ")}` : "")
        }
      >
        <For each={p.lock.holders}>{(h) => <span class="holder" style={{ background: colorOf(h.agent) }}>{h.agent}</span>}</For>
        <Show when={holder()}>
          <span class="mode">{p.lock.state === "exclusive" ? "excl" : "shared"}</span>
          <span class="lease">{fmtDuration(lease())}</span>
        </Show>
        <Show when={p.lock.waiters.length > 0}>
          <span class="waiters" title="waiting">
            +{p.lock.waiters.length} waiting
            <For each={p.lock.waiters}>{(w) => <Dot id={w.agent} size={7} />}</For>
          </span>
        </Show>
      </span>
    </Show>
  );
};

export const FileTree = (p: { session: Session; now: Accessor<number> }) => {
  const locks = createMemo(() => new Map(p.session.view().locks.map((l) => [l.path, l])));
  // Keyed by the set of paths, so moving the cursor rebuilds the tree only when a file appears.
  const paths = createMemo(() => {
    const seq = p.session.seq();
    const known = [...p.session.replay.derived.files].filter(([, first]) => first <= seq).map(([path]) => path);
    return [...new Set([...known, ...locks().keys()])].sort().join("\n");
  });
  const tree = createMemo(() => buildTree(paths() ? paths().split("\n") : []));
  const held = () => p.session.view().locks.filter((l) => l.holders.length > 0).length;
  const Node = (n: { node: TreeNode; depth: number }) => (
    <Show
      when={n.node.file}
      fallback={
        <li class="dir">
          <div class="entry" style={{ "padding-left": `${n.depth * 12}px` }}>
            <span class="folder">▾</span> {n.node.name}
          </div>
          <ul>
            <For each={n.node.children}>{(c) => <Node node={c} depth={n.depth + 1} />}</For>
          </ul>
        </li>
      }
    >
      <li class="file" data-testid="file" data-path={n.node.path}>
        <div class="entry" style={{ "padding-left": `${n.depth * 12}px` }}>
          <span class="fname">{n.node.name}</span>
          <Show when={locks().get(n.node.path)}>{(l) => <LockBadge lock={l()} now={p.now()} />}</Show>
        </div>
      </li>
    </Show>
  );
  return (
    <section class="panel files" aria-label="Files">
      <h2>
        Files <span class="muted small">{held()} locked</span>
      </h2>
      <ul class="tree">
        <For each={tree().children} fallback={<li class="empty">No files touched yet</li>}>
          {(c) => <Node node={c} depth={0} />}
        </For>
      </ul>
    </section>
  );
};

// ---------------------------------------------------------------------------------------------
// Chat: prompts with attribution, pending in queue order, streaming, answers.

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
                    <Show when={p.onCancel}>
                      <button class="link" onClick={() => p.onCancel!(item)}>
                        cancel
                      </button>
                    </Show>
                  </div>
                </Show>
                <Show when={item.status === "processing"}>
                  <div class="msg agent streaming" style={{ "border-left-color": colorOf(item.agent) }} data-testid="streaming">
                    <div class="meta">
                      <AgentName id={item.agent} vendor={info()?.vendor} model={info()?.model} /> <StatusBadge status={info()?.status ?? "analyzing"} />
                      <Show when={p.onCancel}>
                        <button class="link" onClick={() => p.onCancel!(item)}>
                          cancel
                        </button>
                      </Show>
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

// ---------------------------------------------------------------------------------------------
// Composer: one or several target agents.

/** `disabledBecause`: why nothing can be sent now (shown in the box), or undefined when it can. */
export const Composer = (p: { agents: readonly AgentView[]; onSend: (agents: string[], text: string) => Promise<void>; disabledBecause?: string | undefined }) => {
  const [targets, setTargets] = createSignal<ReadonlySet<string>>(new Set());
  const [text, setText] = createSignal("");
  const [error, setError] = createSignal("");
  const [busy, setBusy] = createSignal(false);
  const chosen = () => {
    const t = [...targets()].filter((id) => p.agents.some((a) => a.id === id));
    return t.length > 0 ? t : p.agents.slice(0, 1).map((a) => a.id);
  };
  const send = async () => {
    const body = text().trim();
    if (!body || chosen().length === 0) return;
    setBusy(true);
    setError("");
    try {
      await p.onSend(chosen(), body);
      setText("");
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form
      class="composer"
      onSubmit={(e) => {
        e.preventDefault();
        void send();
      }}
    >
      <div class="targets" role="group" aria-label="Send to">
        <span class="muted small">to:</span>
        <For each={p.agents}>
          {(a) => (
            <button
              type="button"
              class={`target ${chosen().includes(a.id) ? "on" : ""}`}
              style={{ "--c": colorOf(a.id) }}
              data-testid="target"
              data-agent={a.id}
              aria-pressed={chosen().includes(a.id)}
              onClick={(e) => {
                const next = new Set(e.shiftKey || e.ctrlKey || e.metaKey ? targets() : []);
                if (targets().has(a.id) && next.has(a.id)) next.delete(a.id);
                else next.add(a.id);
                setTargets(next);
              }}
            >
              {a.id}
            </button>
          )}
        </For>
        <button type="button" class="target all" onClick={() => setTargets(new Set(p.agents.map((a) => a.id)))}>
          all
        </button>
      </div>
      <div class="row">
        <textarea
          data-testid="composer"
          placeholder={p.disabledBecause ?? "Ask an agent… (Enter to send, Shift+Enter for a new line; Shift-click agents to add targets)"}
          value={text()}
          disabled={p.disabledBecause !== undefined}
          onInput={(e) => setText(e.currentTarget.value)}
          onKeyDown={(e) => {
            if (e.key === "Enter" && !e.shiftKey) {
              e.preventDefault();
              void send();
            }
          }}
        />
        <button type="submit" class="primary" disabled={busy() || p.disabledBecause !== undefined || !text().trim()} data-testid="send">
          Send{chosen().length > 1 ? ` ×${chosen().length}` : ""}
        </button>
      </div>
      <Show when={error()}>
        <div class="error small">{error()}</div>
      </Show>
    </form>
  );
};

// ---------------------------------------------------------------------------------------------
// Lifecycle: the workspace state and the buttons that apply now.

export const Lifecycle = (p: { status: string; live: boolean; onAction?: (a: "hibernate" | "resume" | "terminate") => Promise<void> }) => {
  const [err, setErr] = createSignal("");
  const act = (a: "hibernate" | "resume" | "terminate") => async () => {
    if (a === "terminate" && !confirm("Terminate this workspace? Agents stop and it takes no more prompts.")) return;
    setErr("");
    try {
      await p.onAction?.(a);
    } catch (e) {
      setErr(e instanceof Error ? e.message : String(e));
    }
  };
  const can = (a: string) =>
    p.live &&
    ((a === "hibernate" && (p.status === "active" || p.status === "idle")) ||
      (a === "resume" && p.status === "hibernated") ||
      (a === "terminate" && (p.status === "active" || p.status === "idle")));
  return (
    <div class="lifecycle">
      <StatusBadge status={p.status}>
        <span data-testid="ws-status">{p.status}</span>
      </StatusBadge>
      <Show when={p.live}>
        <Show when={can("hibernate")}>
          <button onClick={act("hibernate")} data-testid="hibernate">
            Hibernate
          </button>
        </Show>
        <Show when={can("resume")}>
          <button onClick={act("resume")} data-testid="resume">
            Resume
          </button>
        </Show>
        <Show when={can("terminate")}>
          <button class="danger" onClick={act("terminate")} data-testid="terminate">
            Terminate
          </button>
        </Show>
      </Show>
      <Show when={err()}>
        <span class="error small">{err()}</span>
      </Show>
    </div>
  );
};

export const Presence = (p: { session: Session }) => (
  <div class="presence" aria-label="People here" data-testid="presence">
    <For each={p.session.people()}>{(person) => <Avatar id={person.name} name={person.name} active title={`${person.name}${person.role ? ` (${person.role})` : ""}`} />}</For>
  </div>
);

// ---------------------------------------------------------------------------------------------
// Events near the cursor (filtered), newest first.

export const EventList = (p: { session: Session }) => {
  const rows = createMemo(() => {
    p.session.version();
    const events = p.session.replay.events;
    const seq = p.session.seq();
    const out: (typeof events)[number][] = [];
    let lo = 0;
    let hi = events.length - 1;
    let i = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (events[mid]!.seq <= seq) {
        i = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    for (; i >= 0 && out.length < 40; i--) if (p.session.matches(events[i]!)) out.push(events[i]!);
    return out;
  });
  const diverged = createMemo(() => {
    p.session.version();
    return new Set(p.session.replay.divergences.map((d) => d.seq));
  });
  return (
    <section class="panel events" aria-label="Events">
      <h2>
        Events <span class="muted small">up to #{p.session.seq()}</span>
      </h2>
      <ol class="event-list" data-testid="events">
        <For each={rows()}>
          {(e) => {
            const lane = laneOf(e);
            return (
              <li classList={{ current: e.seq === p.session.seq(), diverged: diverged().has(e.seq) }} onClick={() => p.session.seek(e.seq)} title={JSON.stringify(e.payload)}>
                <span class="seq">#{e.seq}</span> <Dot id={lane} size={7} /> <span class="etype">{e.type}</span> <span class="muted">{e.entity}</span>
              </li>
            );
          }}
        </For>
      </ol>
    </section>
  );
};
