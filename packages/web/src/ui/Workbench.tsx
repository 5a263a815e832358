/** The panels of one timeline, live (studio) or replayed (viewer): the same components either way. */
import { createSignal, onCleanup, Show, type JSX } from "solid-js";
import type { ChatItem } from "../model/view.ts";
import { AgentPanel } from "./panels/Agents.tsx";
import { Chat } from "./panels/Chat.tsx";
import { Composer } from "./panels/Composer.tsx";
import { EventList } from "./panels/Events.tsx";
import { FileTree } from "./panels/Files.tsx";
import { Lifecycle, Presence, type LifecycleAction } from "./panels/Lifecycle.tsx";
import { Plots } from "./Plots.tsx";
import { Timeline, useKeyboard } from "./Timeline.tsx";
import type { Session } from "./session.ts";

export interface LiveActions {
  send(agents: string[], text: string): Promise<void>;
  cancel(item: ChatItem): Promise<void>;
  lifecycle(a: LifecycleAction): Promise<void>;
}

export const Workbench = (p: { session: Session; actions?: LiveActions; title?: JSX.Element; connection?: string }) => {
  const s = p.session;
  useKeyboard(() => s);
  // Lease countdowns tick with the wall clock while following a live head, else use the log's clock.
  const [tick, setTick] = createSignal(Date.now());
  const timer = setInterval(() => setTick(Date.now()), 1000);
  onCleanup(() => clearInterval(timer));
  const now = () => (s.live && s.cursor() === null ? Math.max(tick(), s.view().time) : s.view().time);
  const replaying = () => s.live && s.cursor() !== null;
  return (
    <div class="workbench" classList={{ replaying: replaying() }}>
      <div class="ws-bar">
        <div class="title">
          {p.title}
          <b data-testid="ws-name-label">{s.view().workspace.name || s.view().workspace.id || "timeline"}</b>
        </div>
        <Lifecycle status={s.view().workspace.status} lastError={s.view().workspace.lastError} live={!!p.actions && !replaying()} onAction={p.actions?.lifecycle} />
        <Presence session={s} />
        <Show when={p.connection}>
          <span class={`conn conn-${p.connection}`} title="live connection">
            {p.connection}
          </span>
        </Show>
        <Show when={replaying()}>
          <button class="primary" onClick={() => s.seek(null)}>
            Back to live
          </button>
        </Show>
      </div>
      <Show when={s.loading()}>
        {(l) => (
          <div class="progress" data-testid="loading">
            Loading history… {l().done.toLocaleString()} / {l().total.toLocaleString()} events
            <progress value={l().done} max={Math.max(1, l().total)} />
          </div>
        )}
      </Show>
      <div class="grid">
        <aside class="left">
          <AgentPanel session={s} />
          <FileTree session={s} now={now} />
        </aside>
        <div class="center">
          <Chat session={s} onCancel={p.actions && !replaying() ? (i) => void p.actions!.cancel(i) : undefined} />
          <Show when={p.actions}>
            <Composer
              agents={s.view().agents}
              onSend={p.actions!.send}
              disabledBecause={
                s.view().workspace.status === "terminated"
                  ? "This workspace is terminated: it takes no more prompts."
                  : replaying()
                    ? "Viewing the past: press ● live to send."
                    : undefined
              }
            />
          </Show>
        </div>
        <aside class="right">
          <Plots session={s} />
          <EventList session={s} />
        </aside>
      </div>
      <Timeline session={s} />
    </div>
  );
};
