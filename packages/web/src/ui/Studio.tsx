/** A live workspace: history paged in over REST (with progress), then the live socket. */
import { createSignal, For, onCleanup, onMount, Show } from "solid-js";
import { api, ApiError, requestId } from "../api/client.ts";
import { connectLive } from "../api/live.ts";
import { Replay } from "../model/replay.ts";
import { fmtAgo, fmtCount, StatusBadge } from "./Badges.tsx";
import { createSession } from "./session.ts";
import { Workbench } from "./Workbench.tsx";
import { TERMINATE_QUESTION, type LifecycleAction } from "./panels/Lifecycle.tsx";
import { expose } from "./hooks.ts";
import { freshRunnerTokens } from "./Home.tsx";

/** The gateway caps `limit` at 999 per page. */
const PAGE = 999;
const HISTORY_DRAW_MS = 1000;
/**
 * How much history the studio loads by default. A longer log starts at a stored snapshot near its
 * last RECENT_HISTORY events: a million events would take a minute and a gigabyte in the page.
 * "Load all" (or `#/ws/<id>?history=all`) loads the rest.
 */
const RECENT_HISTORY = 50_000;

/** What the status of a workspace in the archive says (`GET /status` of a hibernating, hibernated or resuming one). */
interface Asleep {
  readonly name: string;
  readonly state: string;
  readonly heldPrompts: number;
  readonly archive: { readonly archiveId: string; readonly store: string; readonly hibernatedAt: string } | null;
}

const ASLEEP = new Set(["hibernating", "hibernated", "resuming"]);
/** How often the archive's card asks again while the workspace is being archived or restored. */
const ASLEEP_POLL_MS = 1_000;

const asleepOf = (status: Record<string, unknown> | undefined): Asleep | undefined => {
  const w = status?.workspace as Partial<Asleep> & { state?: string } | undefined;
  // A served workspace's status has its lastSeq beside `workspace`; one in the archive has only the catalogue's line.
  if (!w || status?.lastSeq !== undefined || !ASLEEP.has(w.state ?? "")) return undefined;
  return { name: w.name ?? "", state: w.state!, heldPrompts: w.heldPrompts ?? 0, archive: w.archive ?? null };
};

const AsleepCard = (p: { asleep: Asleep; wake: () => Promise<void>; terminate: () => Promise<void> }) => {
  const [waking, setWaking] = createSignal(false);
  // Read through `p` on each use: the card stays while the workspace's line changes under it.
  const archive = () => p.asleep.archive;
  return (
    <section class="panel asleep" data-testid="asleep">
      <h2>
        <a href="#/">Workspaces</a>
      </h2>
      <p>
        <b>{p.asleep.name}</b> <StatusBadge status={p.asleep.state} />
      </p>
      <Show when={p.asleep.state === "hibernating"}>
        <p class="muted" data-testid="archiving">
          Being written to the archive{archive() ? ` (${archive()!.store})` : ""}; this page follows it.
        </p>
      </Show>
      <Show when={p.asleep.state === "resuming"}>
        <p class="muted">Being restored from the archive; this page opens its studio once it is.</p>
      </Show>
      <Show when={p.asleep.state === "hibernated" && archive()}>
        {(a) => (
          <p class="muted">
            In the archive since {fmtAgo(Date.now() - Date.parse(a().hibernatedAt))} ({a().store}, {a().archiveId}).
          </p>
        )}
      </Show>
      <p class="muted">
        Resuming restores its folder from the archive (every hash checked) and opens its studio.
        {p.asleep.heldPrompts > 0 ? ` ${fmtCount(p.asleep.heldPrompts, "prompt")} sent meanwhile will be queued then.` : " A prompt sent to it by the API also wakes it."}
      </p>
      <button
        class="primary"
        data-testid="resume"
        disabled={waking()}
        onClick={() => {
          setWaking(true);
          void p.wake().finally(() => setWaking(false));
        }}
      >
        {waking() ? "Resuming…" : "Resume"}
      </button>{" "}
      <Show when={p.asleep.state === "hibernated"}>
        <button
          class="danger"
          data-testid="terminate"
          disabled={waking()}
          onClick={() => {
            if (!confirm(TERMINATE_QUESTION)) return;
            setWaking(true);
            void p.terminate().finally(() => setWaking(false));
          }}
        >
          Terminate
        </button>
      </Show>
    </section>
  );
};

/** Why the server does not serve a workspace; `retrying` when it reopens it on its own (its log failed while served). */
interface Unserved {
  readonly reason: string;
  readonly retrying: boolean;
}

/** A workspace the server could not open (a damaged log, a missing disk, a full one): why, instead of an empty studio. */
const UnavailableCard = (p: { unserved: Unserved }) => (
  <section class="panel asleep" data-testid="unavailable">
    <h2>
      <a href="#/">Workspaces</a>
    </h2>
    <p>
      <StatusBadge status="unavailable" />
    </p>
    <p class="error">{p.unserved.reason}</p>
    <Show
      when={p.unserved.retrying}
      fallback={
        <p class="muted">
          Its folder is left as it is. <code>atelier log verify &lt;its folder&gt;</code> names the damage; the server tries to open it again when it next
          starts.
        </p>
      }
    >
      <p class="muted">
        Its log could not be written (a full disk, an I/O error). Nothing it acknowledged is lost: the server reopens it from its log on its own, waiting
        longer each time it fails again, and this page opens it as soon as it is served.
      </p>
    </Show>
  </section>
);

/** `recent`: how many events of history to load before starting at a snapshot instead (default RECENT_HISTORY). */
export const Studio = (p: { id: string; recent?: number | "all" }) => {
  const session = createSession(new Replay(), true);
  expose(session);
  const [conn, setConn] = createSignal("connecting");
  const [error, setError] = createSignal("");
  const [tokens, setTokens] = createSignal(freshRunnerTokens.get(p.id));
  freshRunnerTokens.delete(p.id);
  let close: (() => void) | undefined;
  let stopped = false;

  /** Set while the workspace is in the archive: the page offers to resume it instead of loading a timeline it cannot serve. */
  const [asleep, setAsleep] = createSignal<Asleep | null>(null);
  let recent = p.recent ?? RECENT_HISTORY;
  /** Set while the history shown starts at a snapshot (`from`), not at the log's beginning. */
  const [partial, setPartial] = createSignal<{ from: number } | null>(null);

  /** Counts history loads: a load that a newer one (Load all) replaced stops at its next await. */
  let loads = 0;
  /** Loads the history after the replay's head (from a snapshot first, for a long log on `first`). */
  const loadHistory = async (known?: Record<string, unknown>, first = false): Promise<void> => {
    const load = ++loads;
    const superseded = () => stopped || load !== loads;
    const status = known ?? (await api.status(p.id).catch(() => ({}) as Record<string, unknown>));
    const total = Number(status.lastSeq ?? 0);
    // A long log's history starts at the stored snapshot nearest its last `recent` events.
    if (first && recent !== "all" && total > recent) {
      const world = await api.snapshot(p.id, total - recent).catch(() => null);
      if (superseded()) return;
      if (world && world.seq > 0) {
        session.rebase(world);
        setPartial({ from: world.seq });
      }
    }
    if (superseded()) return;
    if (total > session.replay.headSeq) session.setLoading({ done: session.replay.headSeq, total });
    // Drawing every panel after each page made a long history quadratic (a million events took
    // minutes): the panels draw at most once a second while it loads, and once at the end.
    let drawn = performance.now();
    for (;;) {
      const page = await api.events(p.id, session.replay.headSeq + 1, PAGE);
      if (superseded()) return;
      session.append(page.items, false);
      session.setLoading({ done: session.replay.headSeq, total: Math.max(total, page.lastSeq) });
      if (performance.now() - drawn > HISTORY_DRAW_MS) {
        session.render();
        drawn = performance.now();
      }
      if (page.items.length === 0 || page.next === null || session.replay.headSeq >= page.lastSeq) break;
    }
    session.render();
    session.setLoading(null);
  };

  /** History, then the live socket (unless a newer open replaced this one meanwhile). */
  const open = async (status?: Record<string, unknown>) => {
    const load = loads + 1;
    try {
      await loadHistory(status, true);
    } catch (e) {
      setError(`could not load the timeline: ${e instanceof Error ? e.message : String(e)}`);
      session.setLoading(null);
    }
    if (stopped || load !== loads) return;
    close = connectLive(p.id, () => session.replay.headSeq, {
      events: (envs) => session.append(envs),
      chunk: (promptId, _agent, text) => session.chunk(promptId, text),
      tool: (promptId, _agent, t) => session.tool(promptId, t),
      presence: (people) => session.setPeople(people),
      resync: () => void loadHistory(),
      status: setConn,
    });
  };

  /** Shows the studio, or the archive's card while the workspace is there (following it while it is on its way in or out). */
  const show = async (status: Record<string, unknown> | undefined): Promise<void> => {
    const summary = asleepOf(status);
    if (!summary) {
      if (asleep()) setAsleep(null);
      return open(status);
    }
    setAsleep(summary);
    if (summary.state === "hibernated") return;
    await new Promise((r) => setTimeout(r, ASLEEP_POLL_MS));
    if (!stopped && asleep()) await show(await api.status(p.id).catch(() => status));
  };
  /** Why the server does not serve this workspace, when it does not. */
  const [unavailable, setUnavailable] = createSignal<Unserved | null>(null);
  /** The workspace's status; null while it is unavailable for good (until the server's next start). */
  const firstStatus = async (): Promise<Record<string, unknown> | undefined | null> => {
    for (;;) {
      try {
        return await api.status(p.id);
      } catch (e) {
        if (!(e instanceof ApiError && e.status === 503 && e.code === "unavailable")) return undefined;
        const retrying = (e.details as { since?: string } | undefined)?.since === "log-failure";
        setUnavailable({ reason: e.message, retrying });
        if (!retrying || stopped) return null;
        await new Promise((r) => setTimeout(r, ASLEEP_POLL_MS));
      }
    }
  };
  onMount(async () => {
    const status = await firstStatus();
    if (status === null) return;
    setUnavailable(null);
    await show(status);
  });

  /** Drops the recent history and the live socket, and loads everything from the log's beginning. */
  const loadAll = async () => {
    recent = "all";
    close?.();
    close = undefined;
    setPartial(null);
    session.rebase();
    await open();
  };

  /** Resumes (or, with `api.terminate`, ends) a workspace in the archive, then opens its studio. */
  const wake = async (act: (id: string) => Promise<unknown> = api.resume) => {
    setError("");
    try {
      await act(p.id);
    } catch (e) {
      setError(`could not ${act === api.resume ? "resume" : "terminate"}: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    // Following a hibernating or resuming workspace, the card may have opened the studio already.
    if (!asleep()) return;
    setAsleep(null);
    await open();
  };
  onCleanup(() => {
    stopped = true;
    close?.();
  });

  const actions = {
    send: async (agents: string[], text: string) => {
      await Promise.all(agents.map((a) => api.execute(p.id, a, text, requestId())));
    },
    cancel: async (item: { agent: string; promptId: string }) => {
      await api.cancel(p.id, item.agent, item.promptId);
    },
    lifecycle: async (a: LifecycleAction) => {
      if (a === "hibernate") await api.hibernate(p.id);
      else if (a === "resume") await api.resume(p.id);
      else if (a === "restart") await api.restart(p.id);
      else await api.terminate(p.id);
    },
  };
  return (
    <div class="page">
      {error() && <p class="error banner">{error()}</p>}
      <Show when={tokens()}>
        {(t) => (
          <div class="tokens-banner" data-testid="runner-tokens">
            Runner tokens (shown once — give each to that agent's runner: <code>
              npm run atelier -- runner --scripted --url {window.location.origin} --workspace {p.id} --agent &lt;id&gt; --token &lt;token&gt;
            </code>):
            <ul>
              <For each={Object.entries(t())}>
                {([agent, token]) => (
                  <li>
                    <b>{agent}</b> <code>{token}</code>
                  </li>
                )}
              </For>
            </ul>
            <button class="link" onClick={() => setTokens(undefined)}>
              dismiss
            </button>
          </div>
        )}
      </Show>
      <Show when={partial()}>
        {(w) => (
          <p class="history-note" data-testid="partial-history">
            Showing the events after #{w().from.toLocaleString()} only: this long history starts from a stored snapshot there.{" "}
            <button class="link" data-testid="load-all" onClick={() => void loadAll()}>
              Load all {w().from.toLocaleString()} earlier events
            </button>
          </p>
        )}
      </Show>
      <Show when={!unavailable()} fallback={<UnavailableCard unserved={unavailable()!} />}>
        <Show when={asleep()} fallback={<Workbench session={session} actions={actions} connection={conn()} title={<a href="#/">Workspaces</a>} />}>
          {(a) => <AsleepCard asleep={a()} wake={wake} terminate={() => wake(api.terminate)} />}
        </Show>
      </Show>
    </div>
  );
};
