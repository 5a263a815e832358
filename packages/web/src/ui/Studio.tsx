/** A live workspace: history paged in over REST (with progress), then the live socket. */
import { createSignal, onCleanup, onMount } from "solid-js";
import { api, requestId } from "../api/client.ts";
import { connectLive } from "../api/live.ts";
import { Replay } from "../model/replay.ts";
import { createSession } from "./session.ts";
import { Workbench } from "./Workbench.tsx";
import { expose } from "./hooks.ts";

const PAGE = 5000;

export const Studio = (p: { id: string }) => {
  const session = createSession(new Replay(), true);
  expose(session);
  const [conn, setConn] = createSignal("connecting");
  const [error, setError] = createSignal("");
  let close: (() => void) | undefined;
  let stopped = false;

  const loadHistory = async () => {
    const status = await api.status(p.id).catch(() => ({}) as Record<string, unknown>);
    const total = Number(status.lastSeq ?? 0);
    if (total > 0) session.setLoading({ done: 0, total });
    for (;;) {
      const page = await api.timeline(p.id, session.replay.headSeq + 1, PAGE);
      if (stopped) return;
      session.append(page.items);
      session.setLoading({ done: session.replay.headSeq, total: Math.max(total, page.lastSeq) });
      if (page.items.length === 0 || session.replay.headSeq >= page.lastSeq || (page.next === null && page.items.length < PAGE)) break;
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
    <>
      {error() && <p class="error banner">{error()}</p>}
      <Workbench session={session} actions={actions} connection={conn()} title={<a href="#/">Workspaces</a>} />
    </>
  );
};
