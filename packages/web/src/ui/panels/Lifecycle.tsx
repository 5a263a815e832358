/** Lifecycle: the workspace state and the buttons that apply now. */
import { createSignal, For, Show } from "solid-js";
import { Avatar, StatusBadge } from "../Badges.tsx";
import type { Session } from "../session.ts";

export const TERMINATE_QUESTION = "Terminate this workspace? Agents stop and it takes no more prompts.";

export type LifecycleAction = "hibernate" | "resume" | "restart" | "terminate";

export const Lifecycle = (p: { status: string; lastError?: string | null; live: boolean; onAction?: (a: LifecycleAction) => Promise<void> }) => {
  const [err, setErr] = createSignal("");
  const act = (a: LifecycleAction) => async () => {
    if (a === "terminate" && !confirm(TERMINATE_QUESTION)) return;
    setErr("");
    try {
      await p.onAction?.(a);
    } catch (e) {
      setErr(e instanceof Error ? e.message : String(e));
    }
  };
  const can = (a: LifecycleAction) =>
    p.live &&
    ((a === "hibernate" && (p.status === "active" || p.status === "idle")) ||
      (a === "resume" && p.status === "hibernated") ||
      (a === "restart" && p.status === "error") ||
      // One in the archive is restored to record its end (DELETE does both).
      (a === "terminate" && ["active", "idle", "hibernated", "error"].includes(p.status)));
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
        <Show when={can("restart")}>
          <button onClick={act("restart")} data-testid="restart">
            Restart
          </button>
        </Show>
        <Show when={can("terminate")}>
          <button class="danger" onClick={act("terminate")} data-testid="terminate">
            Terminate
          </button>
        </Show>
      </Show>
      <Show when={p.status === "error" && p.lastError}>
        <span class="error small" data-testid="ws-error">
          {p.lastError}
        </span>
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
