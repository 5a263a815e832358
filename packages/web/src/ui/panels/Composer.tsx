/** Composer: one or several target agents. */
import { createSignal, For, Show } from "solid-js";
import type { AgentView } from "../../model/view.ts";
import { colorOf } from "../../model/colors.ts";

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
