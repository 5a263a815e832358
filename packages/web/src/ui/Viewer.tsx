/** The replay viewer for a timeline file (a simulator run or a log's JSONL). */
import { createRoot, createSignal, onCleanup, Show } from "solid-js";
import { loadReplay } from "../model/replay.ts";
import { parseTimeline } from "../model/timeline.ts";
import { generateTimeline, toJsonl } from "../model/generate.ts";
import { createSession, type Session } from "./session.ts";
import { Workbench } from "./Workbench.tsx";
import { fmtCount } from "./Badges.tsx";
import { expose, markOpen, recordLoad } from "./hooks.ts";

export const Viewer = () => {
  const [session, setSession] = createSignal<Session>();
  const [status, setStatus] = createSignal("");
  const [progress, setProgress] = createSignal<{ done: number; total: number } | null>(null);
  let dispose: (() => void) | undefined;
  onCleanup(() => dispose?.());

  const open = async (name: string, text: () => Promise<string> | string) => {
    const t0 = performance.now();
    markOpen();
    setStatus(`Reading ${name}…`);
    const body = await text();
    const t1 = performance.now();
    const parsed = parseTimeline(body);
    const t2 = performance.now();
    setProgress({ done: 0, total: parsed.events.length });
    const replay = await loadReplay(parsed.events, parsed.markers, (done, total) => setProgress({ done, total }));
    const t3 = performance.now();
    dispose?.();
    createRoot((d) => {
      dispose = d;
      const s = createSession(replay, false);
      expose(s);
      setSession(s);
    });
    setProgress(null);
    const t4 = performance.now();
    setStatus(
      `${name}: ${fmtCount(parsed.events.length, "event")}, ${fmtCount(parsed.markers.length, "marker")}` +
        (parsed.badLines ? `, ${fmtCount(parsed.badLines, "unreadable line")}` : "") +
        (parsed.outOfOrder ? `, ${fmtCount(parsed.outOfOrder, "out-of-order envelope")} dropped` : "") +
        (replay.divergences.length ? `, ${replay.divergences.length} refused by the machines` : "") +
        ` — loaded in ${Math.round(t4 - t0)} ms`,
    );
    recordLoad({ events: parsed.events.length, readMs: t1 - t0, parseMs: t2 - t1, foldMs: t3 - t2, renderMs: t4 - t3, totalMs: t4 - t0 });
  };

  return (
    <div class="page">
      <div class="viewer-bar">
        <a href="#/">Workspaces</a>
        <label class="file">
          Open timeline file (JSONL){" "}
          <input
            type="file"
            accept=".jsonl,.json,.ndjson,.log,text/plain,application/json"
            data-testid="file-input"
            onChange={(e) => {
              const f = e.currentTarget.files?.[0];
              if (f) void open(f.name, () => f.text());
            }}
          />
        </label>
        <button onClick={() => void open("demo", () => toJsonl(generateTimeline({ events: 3000 }), 500))} data-testid="demo">
          Demo timeline
        </button>
        <span class="muted small" data-testid="viewer-status">
          {status()}
        </span>
      </div>
      <Show when={progress()}>
        {(l) => (
          <div class="progress" data-testid="loading">
            Replaying… {l().done.toLocaleString()} / {l().total.toLocaleString()} events <progress value={l().done} max={Math.max(1, l().total)} />
          </div>
        )}
      </Show>
      <Show when={session()} fallback={<p class="empty big">Open a timeline file to replay it: every panel follows the scrubber.</p>}>
        {(s) => <Workbench session={s()} />}
      </Show>
    </div>
  );
};
