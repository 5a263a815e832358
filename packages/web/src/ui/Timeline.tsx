/**
 * The timeline: swim lanes (workspace, people, one per agent) drawn on a canvas with one mark
 * per event coloured by kind, simulator markers on top, a scrubber across the whole log (or the
 * last 1/5/15 minutes), play at 1x–100x, step, and filters by agent and event type.
 */
import { createEffect, createMemo, createSignal, For, onCleanup, onMount, Show } from "solid-js";
import { PEOPLE_LANE, WORKSPACE_LANE } from "../model/derived.ts";
import { colorOf, KIND_COLOR, kindColor, kindOf } from "../model/colors.ts";
import { timeOf } from "../model/timeline.ts";
import { fmtTime } from "./Badges.tsx";
import { SPEEDS, type Session } from "./session.ts";

const LANE_H = 18;
const LABEL_W = 84;
const WINDOWS = [
  { label: "all", ms: 0 },
  { label: "15m", ms: 15 * 60_000 },
  { label: "5m", ms: 5 * 60_000 },
  { label: "1m", ms: 60_000 },
] as const;

export const Timeline = (p: { session: Session }) => {
  const s = p.session;
  let canvas: HTMLCanvasElement | undefined;
  let wrap: HTMLDivElement | undefined;
  const [width, setWidth] = createSignal(800);
  const [windowMs, setWindowMs] = createSignal(0);
  const [dragging, setDragging] = createSignal(false);

  const lanes = createMemo(() => {
    s.version();
    const ids = [...s.replay.derived.laneIds].filter((l) => l !== WORKSPACE_LANE && l !== PEOPLE_LANE).sort();
    return [WORKSPACE_LANE, PEOPLE_LANE, ...ids];
  });
  const agents = createMemo(() => {
    s.version();
    return [...s.replay.derived.agents].sort();
  });
  const kinds = createMemo(() => {
    s.version();
    return [...new Set([...s.replay.derived.types].map(kindOf))].sort();
  });

  /** [first index, last index] of the events in view. */
  const range = createMemo(() => {
    s.version();
    const events = s.replay.events;
    const n = events.length;
    if (n === 0) return { lo: 0, hi: -1 };
    const w = windowMs();
    if (w === 0) return { lo: 0, hi: n - 1 };
    const end = timeOf(events[n - 1]!);
    let lo = n - 1;
    while (lo > 0 && timeOf(events[lo - 1]!) >= end - w) lo--;
    return { lo, hi: n - 1 };
  });
  const seqRange = () => {
    const { lo, hi } = range();
    const ev = s.replay.events;
    const first = ev[lo]?.seq ?? 0;
    const last = ev[hi]?.seq ?? 0;
    return { first: Math.max(0, first - 1), last };
  };
  const xOf = (seq: number) => {
    const { first, last } = seqRange();
    const plot = width() - LABEL_W;
    return LABEL_W + (last > first ? ((seq - first) / (last - first)) * plot : 0);
  };
  const seqAtX = (x: number) => {
    const { first, last } = seqRange();
    const plot = width() - LABEL_W;
    return Math.round(first + (Math.max(0, x - LABEL_W) / plot) * (last - first));
  };

  /** Marks binned per pixel column and lane (the last event wins, filters applied). */
  const bins = createMemo(() => {
    s.version();
    s.agentFilter();
    s.typeFilter();
    const ls = lanes();
    const laneIndex = new Map(ls.map((l, i) => [l, i]));
    const cols = Math.max(1, width() - LABEL_W);
    const { lo, hi } = range();
    const grid: (string | undefined)[] = new Array(cols * ls.length);
    const ev = s.replay.events;
    const laneOfIdx = s.replay.derived.lanes;
    const { first, last } = seqRange();
    const span = Math.max(1, last - first);
    const filtered = s.agentFilter().size > 0 || s.typeFilter().size > 0;
    for (let i = lo; i <= hi; i++) {
      const e = ev[i]!;
      if (filtered && !s.matches(e)) continue;
      const col = Math.min(cols - 1, Math.floor(((e.seq - first) / span) * cols));
      const li = laneIndex.get(laneOfIdx[i]!) ?? 0;
      const k = li * cols + col;
      // locks and prompts are the interesting marks; do not let touches hide them
      if (grid[k] === undefined || e.type.startsWith("lock.") || e.type.startsWith("prompt.")) grid[k] = kindColor(e.type);
    }
    return { grid, cols };
  });

  const height = () => lanes().length * LANE_H + 10;

  const draw = () => {
    if (!canvas) return;
    const ctx = canvas.getContext("2d");
    if (!ctx) return;
    const dpr = window.devicePixelRatio || 1;
    const w = width();
    const h = height();
    if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
      canvas.width = Math.round(w * dpr);
      canvas.height = Math.round(h * dpr);
    }
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    const ls = lanes();
    const { grid, cols } = bins();
    ls.forEach((lane, li) => {
      const y = 8 + li * LANE_H;
      ctx.fillStyle = li % 2 ? "rgba(0,0,0,0.03)" : "rgba(0,0,0,0)";
      ctx.fillRect(0, y, w, LANE_H);
      ctx.fillStyle = lane === WORKSPACE_LANE || lane === PEOPLE_LANE ? "#868e96" : colorOf(lane);
      ctx.fillRect(0, y + 3, 4, LANE_H - 6);
      ctx.fillStyle = "#343a40";
      ctx.font = "11px system-ui, sans-serif";
      ctx.fillText(lane.length > 11 ? lane.slice(0, 10) + "…" : lane, 8, y + LANE_H - 5);
      for (let c = 0; c < cols; c++) {
        const color = grid[li * cols + c];
        if (color) {
          ctx.fillStyle = color;
          ctx.fillRect(LABEL_W + c, y + 3, 1, LANE_H - 6);
        }
      }
    });
    // simulator markers
    ctx.fillStyle = KIND_COLOR.marker!;
    for (const m of s.replay.markers) {
      const x = xOf(m.afterSeq);
      if (x >= LABEL_W) ctx.fillRect(x - 1, 0, 2, 7);
    }
  };

  createEffect(draw);

  onMount(() => {
    const ro = new ResizeObserver(() => wrap && setWidth(Math.max(200, Math.floor(wrap.clientWidth))));
    if (wrap) ro.observe(wrap);
    onCleanup(() => ro.disconnect());
  });

  const seekFromPointer = (e: PointerEvent) => {
    if (!canvas) return;
    const rect = canvas.getBoundingClientRect();
    s.seek(seqAtX(e.clientX - rect.left));
  };

  const toggle = <T,>(set: ReadonlySet<T>, v: T): Set<T> => {
    const next = new Set(set);
    if (next.has(v)) next.delete(v);
    else next.add(v);
    return next;
  };

  return (
    <section class="panel timeline" aria-label="Timeline">
      <div class="controls">
        <button class="play" data-testid="play" onClick={() => s.setPlaying(!s.playing())} title="Play / pause (space)">
          {s.playing() ? "⏸" : "▶"}
        </button>
        <button onClick={() => s.stepBy(-1)} title="Step back (←)" data-testid="step-back">
          ◀
        </button>
        <button onClick={() => s.stepBy(1)} title="Step forward (→)" data-testid="step-forward">
          ▶︎
        </button>
        <select value={s.speed()} onChange={(e) => s.setSpeed(Number(e.currentTarget.value))} aria-label="Speed" data-testid="speed">
          <For each={SPEEDS}>{(v) => <option value={v}>{v}x</option>}</For>
        </select>
        <span class="seq-label" data-testid="seq">
          #{s.seq()} / {(s.version(), s.replay.headSeq)}
        </span>
        <span class="muted small">{fmtTime(s.view().time)}</span>
        <Show when={s.live}>
          <button class={s.cursor() === null ? "on" : ""} onClick={() => s.seek(null)} data-testid="follow" title="Follow the live head">
            ● live
          </button>
        </Show>
        <span class="spacer" />
        <select value={windowMs()} onChange={(e) => setWindowMs(Number(e.currentTarget.value))} aria-label="Time window">
          <For each={WINDOWS}>{(w) => <option value={w.ms}>{w.label}</option>}</For>
        </select>
      </div>
      <div class="filters">
        <span class="muted small">agents:</span>
        <For each={agents()}>
          {(a) => (
            <button class={`chip filter ${s.agentFilter().has(a) ? "on" : ""}`} style={{ "--c": colorOf(a) }} onClick={() => s.setAgentFilter(toggle(s.agentFilter(), a))} data-testid="filter-agent" data-agent={a}>
              {a}
            </button>
          )}
        </For>
        <span class="muted small">types:</span>
        <For each={kinds()}>
          {(k) => (
            <button class={`chip filter ${s.typeFilter().has(k) ? "on" : ""}`} style={{ "--c": KIND_COLOR[k] ?? "#495057" }} onClick={() => s.setTypeFilter(toggle(s.typeFilter(), k))} data-testid="filter-type" data-kind={k}>
              {k}
            </button>
          )}
        </For>
        <Show when={s.indexed() < s.replay.events.length}>
          <span class="muted small" data-testid="indexing" title="folding events through the machines to build seek checkpoints">
            indexing {Math.floor((100 * s.indexed()) / Math.max(1, s.replay.events.length))}%
          </span>
        </Show>
        <Show when={s.replay.markers.length > 0}>
          <span class="muted small" data-testid="markers">
            {s.replay.markers.length} sim markers
          </span>
        </Show>
        <Show when={s.replay.divergences.length > 0}>
          <span class="error small" title="events the machines refused (marked in the event list)">
            {s.replay.divergences.length} refused
          </span>
        </Show>
      </div>
      <div class="lanes" ref={wrap}>
        <canvas
          ref={canvas}
          data-testid="lanes"
          style={{ width: `${width()}px`, height: `${height()}px` }}
          onPointerDown={(e) => {
            setDragging(true);
            e.currentTarget.setPointerCapture(e.pointerId);
            seekFromPointer(e);
          }}
          onPointerMove={(e) => dragging() && seekFromPointer(e)}
          onPointerUp={() => setDragging(false)}
        />
        <div class="cursor-line" style={{ left: `${Math.round(xOf(s.seq())) - 1}px`, height: `${height()}px` }} />
      </div>
      <input
        type="range"
        class="scrubber"
        data-testid="scrubber"
        aria-label="Scrub the timeline"
        ref={(el) =>
          // bounds first, then the value, in one effect (separate bindings may clamp the value
          // against the previous max while the log grows)
          createEffect(() => {
            const { first, last } = seqRange();
            el.min = String(first);
            el.max = String(last);
            el.value = String(s.seq());
          })
        }
        style={{ "margin-left": `${LABEL_W}px`, width: `calc(100% - ${LABEL_W}px)` }}
        onInput={(e) => s.seek(Number(e.currentTarget.value))}
      />
    </section>
  );
};

/** Space plays/pauses, arrows step (Shift: 10 events), Home/End jump; ignored while typing. */
export const useKeyboard = (session: () => Session | undefined) => {
  const onKey = (e: KeyboardEvent) => {
    const s = session();
    if (!s) return;
    const t = e.target as HTMLElement | null;
    if (t && (t.tagName === "TEXTAREA" || (t.tagName === "INPUT" && (t as HTMLInputElement).type !== "range") || t.tagName === "SELECT" || t.isContentEditable)) return;
    if (e.key === " ") {
      e.preventDefault();
      s.setPlaying(!s.playing());
    } else if (e.key === "ArrowRight" || e.key === "ArrowLeft") {
      e.preventDefault();
      s.setPlaying(false);
      const dir = e.key === "ArrowRight" ? 1 : -1;
      for (let i = 0; i < (e.shiftKey ? 10 : 1); i++) s.stepBy(dir);
    } else if (e.key === "Home") {
      e.preventDefault();
      s.seek(0);
    } else if (e.key === "End") {
      e.preventDefault();
      s.seek(s.live ? null : s.replay.headSeq);
    }
  };
  window.addEventListener("keydown", onKey);
  onCleanup(() => window.removeEventListener("keydown", onKey));
};
