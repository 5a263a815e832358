/** A live workspace: history paged in over REST (with progress), then the live socket. */
import { createSignal, For, onCleanup, onMount, Show } from "solid-js";
import { api, requestId } from "../api/client.ts";
import { connectLive } from "../api/live.ts";
import { Replay } from "../model/replay.ts";
import { createSession } from "./session.ts";
import { Workbench } from "./Workbench.tsx";
import { expose } from "./hooks.ts";
import { freshRunnerTokens } from "./Home.tsx";

/** The gateway caps `limit` at 999 per page. */
const PAGE = 999;

export const Studio = (p: { id: string }) => {
  const session = createSession(new Replay(), true);
  expose(session);
  const [conn, setConn] = createSignal("connecting");
  const [error, setError] = createSignal("");
  const [tokens, setTokens] = createSignal(freshRunnerTokens.get(p.id));
  freshRunnerTokens.delete(p.id);
  let close: (() => void) | undefined;
  let stopped = false;

  const loadHistory = async () => {
    const status = await api.status(p.id).catch(() => ({}) as Record<string, unknown>);
    const total = Number(status.lastSeq ?? 0);
    if (total > 0) session.setLoading({ done: 0, total });
    for (;;) {
      const page = await api.events(p.id, session.replay.headSeq + 1, PAGE);
      if (stopped) return;
      session.append(page.items);
      session.setLoading({ done: session.replay.headSeq, total: Math.max(total, page.lastSeq) });
      if (page.items.length === 0 || page.next === null || session.replay.headSeq >= page.lastSeq) break;
    }
    session.setLoading(null);
  };

  onMount(async () => {
    try {
      await loadHistory();
    } catch (e) {
      setError(`could not load the timeline: ${e instanceof Error ? e.message : String(e)}`);
      session.setLoading(null);
    }
    if (stopped) return;
    close = connectLive(p.id, () => session.replay.headSeq, {
      events: (envs) => session.append(envs),
      chunk: (promptId, _agent, text) => session.chunk(promptId, text),
      tool: (promptId, _agent, t) => session.tool(promptId, t),
      presence: (people) => session.setPeople(people),
      resync: () => void loadHistory(),
      status: setConn,
    });
  });
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
    lifecycle: async (a: "hibernate" | "resume" | "terminate") => {
      if (a === "hibernate") await api.hibernate(p.id);
      else if (a === "resume") await api.resume(p.id);
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
      <Workbench session={session} actions={actions} connection={conn()} title={<a href="#/">Workspaces</a>} />
    </div>
  );
};
