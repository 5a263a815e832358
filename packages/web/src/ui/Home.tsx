import { createResource, createSignal, For, Show } from "solid-js";
import { api, ApiError, token, type AgentSpec, type WorkspaceSummary } from "../api/client.ts";
import { fmtAgo, fmtCount, VendorChip } from "./Badges.tsx";

/** Runner tokens of a workspace created in this tab: shown once in its studio, then forgotten. */
export const freshRunnerTokens = new Map<string, Record<string, string>>();

const VENDORS = ["claude", "gemini", "kimi", "codex", "custom"] as const;
const DEFAULT_MODELS: Record<string, string> = { claude: "claude-opus-4", gemini: "gemini-2.5-pro", kimi: "kimi-k2", codex: "gpt-5-codex", custom: "scripted" };

/** A workspace's line under its name: agents, open prompts, held locks, and when it was last active, hibernated or ended. */
const summaryOf = (w: WorkspaceSummary, now: number): string => {
  if (w.state === "opening") return "being opened since the server started (its log is checked first)";
  if (w.state === "unavailable") return `${w.since === "log-failure" ? "not served for now" : "could not be opened"}: ${w.error ?? "unknown error"}`;
  const parts: string[] = [];
  if (w.agents !== undefined) parts.push(fmtCount(w.agents, "agent") + (w.agentsOnline ? ` (${w.agentsOnline} online)` : ""));
  if (w.openPrompts) parts.push(fmtCount(w.openPrompts, "open prompt"));
  if (w.heldLocks) parts.push(`${fmtCount(w.heldLocks, "lock")} held`);
  if (w.archive?.hibernatedAt) parts.push(`hibernated ${fmtAgo(now - Date.parse(w.archive.hibernatedAt))}`);
  // A terminated workspace's last event is its termination.
  else if (w.lastActivityAt) parts.push(`${w.state === "terminated" ? "terminated" : "active"} ${fmtAgo(now - w.lastActivityAt)}`);
  return parts.join(" · ");
};

/** How often the list asks again while the server is still opening workspaces (after its start, or after a log failed). */
const OPENING_POLL_MS = 1_000;

/** Live workspaces first, then those in the archive, then the terminated; the most recently active first within each. */
const RANK: Record<string, number> = { hibernating: 1, hibernated: 1, resuming: 1, terminating: 2, terminated: 2, unavailable: 3 };
const byRelevance = (a: WorkspaceSummary, b: WorkspaceSummary): number =>
  (RANK[a.state] ?? 0) - (RANK[b.state] ?? 0) || (b.lastActivityAt ?? 0) - (a.lastActivityAt ?? 0);

export const Home = () => {
  const [list, { refetch }] = createResource(async () => {
    if (!token()) return { items: [], error: "No token: open the URL printed by `npm start` (it carries ?token=…)." };
    try {
      const items = (await api.listWorkspaces()).sort(byRelevance);
      // Right after a start the server is still opening some, or it is reopening one whose log failed: ask again until it is done.
      if (items.some((w) => w.state === "opening" || w.since === "log-failure")) setTimeout(() => void refetch(), OPENING_POLL_MS);
      return { items, error: "" };
    } catch (e) {
      return { items: [], error: e instanceof ApiError ? `${e.status} ${e.code}: ${e.message}` : `gateway unreachable (${String(e)})` };
    }
  });
  const [name, setName] = createSignal("");
  const [agents, setAgents] = createSignal<AgentSpec[]>([{ id: "claude", vendor: "claude", model: DEFAULT_MODELS.claude! }]);
  const [error, setError] = createSignal("");
  const update = (i: number, patch: Partial<AgentSpec>) => setAgents(agents().map((a, j) => (j === i ? { ...a, ...patch } : a)));
  const create = async (e: Event) => {
    e.preventDefault();
    setError("");
    try {
      const r = await api.createWorkspace(name().trim() || "workspace", agents());
      const id = String((r.workspace as { id?: string } | undefined)?.id ?? r.id ?? r.workspaceId ?? "");
      const tokens = r.runnerTokens;
      if (tokens && typeof tokens === "object") freshRunnerTokens.set(id, tokens as Record<string, string>);
      await refetch();
      if (id) window.location.hash = `#/ws/${encodeURIComponent(id)}`;
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  };
  return (
    <main class="home">
      <section class="panel">
        <h2>Workspaces</h2>
        <Show when={list()?.error}>
          <p class="error" data-testid="home-error">
            {list()?.error}
          </p>
        </Show>
        <ul class="ws-list" data-testid="ws-list">
          <For each={list()?.items ?? []} fallback={<li class="empty">{list.loading ? "Loading…" : "No workspaces yet."}</li>}>
            {(w) => (
              <li data-testid="ws-item" data-ws={w.id}>
                <a href={`#/ws/${encodeURIComponent(w.id)}`}>
                  <b>{w.name || w.id}</b>
                </a>{" "}
                <span class={`status status-${w.state}`}>{w.state}</span> <span class="muted small">{w.id}</span>
                <div class="muted small" data-testid="ws-summary">
                  {summaryOf(w, Date.now())}
                </div>
              </li>
            )}
          </For>
        </ul>
      </section>
      <section class="panel">
        <h2>New workspace</h2>
        <form onSubmit={create} class="create" data-testid="create-form">
          <label>
            Name <input data-testid="ws-name" value={name()} onInput={(e) => setName(e.currentTarget.value)} placeholder="auth refactor" />
          </label>
          <For each={agents()}>
            {(a, i) => (
              <div class="agent-row" data-testid="agent-row">
                <input aria-label="agent id" value={a.id} onInput={(e) => update(i(), { id: e.currentTarget.value })} />
                <select aria-label="vendor" value={a.vendor} onChange={(e) => update(i(), { vendor: e.currentTarget.value as AgentSpec["vendor"], model: DEFAULT_MODELS[e.currentTarget.value] ?? "" })}>
                  <For each={VENDORS}>{(v) => <option value={v}>{v}</option>}</For>
                </select>
                <input aria-label="model" value={a.model} onInput={(e) => update(i(), { model: e.currentTarget.value })} />
                <VendorChip vendor={a.vendor} />
                <button type="button" class="link" onClick={() => setAgents(agents().filter((_, j) => j !== i()))}>
                  remove
                </button>
              </div>
            )}
          </For>
          <div class="row">
            <button
              type="button"
              onClick={() => {
                const used = new Set(agents().map((a) => a.id));
                const v = VENDORS.find((x) => !used.has(x)) ?? "custom";
                setAgents([...agents(), { id: used.has(v) ? `agent${agents().length + 1}` : v, vendor: v, model: DEFAULT_MODELS[v]! }]);
              }}
            >
              + agent
            </button>
            <button type="submit" class="primary" data-testid="create">
              Create
            </button>
          </div>
          <Show when={error()}>
            <p class="error">{error()}</p>
          </Show>
        </form>
      </section>
      <section class="panel">
        <h2>Replay a timeline</h2>
        <p class="muted">Open a simulator run (`npm run sim -- --seeds 7 --timelines` writes .tmp/sim/seed-7.jsonl) or any log JSONL in the same viewer.</p>
        <a href="#/viewer" data-testid="open-viewer">
          Open the timeline viewer →
        </a>
      </section>
    </main>
  );
};
