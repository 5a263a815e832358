/**
 * One open timeline (a live workspace or a file) as Solid signals: the replay, a cursor (null =
 * follow the head), playback, filters, and the derived view every panel renders.
 */
import { batch, createMemo, createSignal, onCleanup, type Accessor } from "solid-js";
import type { WorldState } from "@atelier/actors/machines";
import { Replay } from "../model/replay.ts";
import { viewAt, type View } from "../model/view.ts";
import { indexAtOrBefore, type Env, type Marker } from "../model/timeline.ts";
import { agentOf } from "../model/derived.ts";
import { kindOf } from "../model/colors.ts";
import type { Person, ToolUse } from "../api/live.ts";
import { recordIndexed } from "./hooks.ts";

export const SPEEDS = [1, 2, 5, 10, 25, 50, 100] as const;

export interface Session {
  readonly replay: Replay;
  readonly live: boolean;
  readonly version: Accessor<number>;
  /** null while following the head. */
  readonly cursor: Accessor<number | null>;
  /** The seq shown. */
  readonly seq: Accessor<number>;
  readonly view: Accessor<View>;
  readonly playing: Accessor<boolean>;
  readonly speed: Accessor<number>;
  readonly agentFilter: Accessor<ReadonlySet<string>>;
  readonly typeFilter: Accessor<ReadonlySet<string>>;
  readonly loading: Accessor<{ done: number; total: number } | null>;
  readonly streams: Accessor<ReadonlyMap<string, string>>;
  readonly people: Accessor<readonly Person[]>;
  /** Tool calls per prompt, as reported live by runners (not in the log). */
  readonly tools: Accessor<ReadonlyMap<string, readonly ToolUse[]>>;
  tool(promptId: string, t: ToolUse): void;
  readonly chatLimit: Accessor<number>;
  /** Events folded so far (checkpoints exist up to here); equals the event count once indexed. */
  readonly indexed: Accessor<number>;
  /** Appends envelopes; `render: false` holds the panels back (a history load renders now and then, not per page). */
  append(envs: Env[], render?: boolean): void;
  /** Renders what was appended without rendering. */
  render(): void;
  /** Drops every event and starts over after `base` (a stored world state), or from the log's beginning. */
  rebase(base?: WorldState): void;
  addMarkers(m: Marker[]): void;
  seek(seq: number | null): void;
  /** Moves to the next/previous event that passes the filters. */
  stepBy(dir: 1 | -1): void;
  setPlaying(p: boolean): void;
  setSpeed(s: number): void;
  setAgentFilter(s: ReadonlySet<string>): void;
  setTypeFilter(s: ReadonlySet<string>): void;
  setLoading(l: { done: number; total: number } | null): void;
  chunk(promptId: string, text: string): void;
  setPeople(p: readonly Person[]): void;
  showMoreChat(): void;
  matches(e: Env): boolean;
}

export const createSession = (replay: Replay, live: boolean): Session => {
  const [version, setVersion] = createSignal(0);
  const [cursor, setCursor] = createSignal<number | null>(live ? null : replay.firstSeq);
  const [indexed, setIndexed] = createSignal(replay.indexed);
  const [playing, setPlayingSig] = createSignal(false);
  const [speed, setSpeed] = createSignal(10);
  const [agentFilter, setAgentFilter] = createSignal<ReadonlySet<string>>(new Set());
  const [typeFilter, setTypeFilter] = createSignal<ReadonlySet<string>>(new Set());
  const [loading, setLoading] = createSignal<{ done: number; total: number } | null>(null);
  const [streams, setStreams] = createSignal<ReadonlyMap<string, string>>(new Map());
  const [people, setPeople] = createSignal<readonly Person[]>([]);
  const [tools, setTools] = createSignal<ReadonlyMap<string, readonly ToolUse[]>>(new Map());
  const [chatLimit, setChatLimit] = createSignal(60);

  const seq = createMemo(() => {
    version();
    const c = cursor();
    return c === null ? replay.headSeq : replay.landing(c);
  });
  const view = createMemo(() => {
    version();
    return viewAt(replay, seq(), chatLimit());
  });

  const matches = (e: Env): boolean => {
    const af = agentFilter();
    const tf = typeFilter();
    if (af.size > 0) {
      const a = agentOf(e);
      if (!a || !af.has(a)) return false;
    }
    if (tf.size > 0 && !tf.has(kindOf(e.type)) && !tf.has(e.type)) return false;
    return true;
  };

  const stepBy = (dir: 1 | -1) => {
    const events = replay.events;
    if (events.length === 0) return;
    let i = indexAtOrBefore(events, seq());
    for (i += dir; i >= 0 && i < events.length; i += dir) if (matches(events[i]!)) break;
    if (i < 0) return setCursor(events[0]!.seq - 1 > 0 ? events[0]!.seq - 1 : 0);
    if (i >= events.length) return setCursor(replay.headSeq);
    setCursor(events[i]!.seq);
  };

  // Playback: advance by `speed` × real time, in log time (events' clocks), clamped to the head.
  let raf = 0;
  let last = 0;
  const frame = (now: number) => {
    if (!playing()) return;
    const dt = last ? now - last : 0;
    last = now;
    const cur = seq();
    const events = replay.events;
    const i = indexAtOrBefore(events, cur);
    if (i >= events.length - 1) {
      setPlayingSig(false);
      return;
    }
    const t = replay.timeAt(cur) + dt * speed();
    let j = i + 1;
    // at least one event per frame, so sparse logs still move
    while (j + 1 < events.length && replay.timeAt(events[j + 1]!.seq) <= t) j++;
    setCursor(events[j]!.seq);
    raf = requestAnimationFrame(frame);
  };
  const setPlaying = (p: boolean) => {
    if (p === playing()) return;
    setPlayingSig(p);
    cancelAnimationFrame(raf);
    if (p) {
      if (cursor() === null || seq() >= replay.headSeq) setCursor(replay.firstSeq);
      last = 0;
      raf = requestAnimationFrame(frame);
    }
  };
  onCleanup(() => cancelAnimationFrame(raf));

  // A file is folded in the background, a slice per task, so the page stays responsive; seeks
  // ahead of the frontier fold on demand (and move the frontier).
  let indexTimer: ReturnType<typeof setTimeout> | undefined;
  const indexMore = () => {
    const done = replay.indexSome(12);
    setIndexed(replay.indexed);
    if (!done) indexTimer = setTimeout(indexMore, 0);
    else {
      recordIndexed();
      setVersion((v) => v + 1);
    }
  };
  if (!replay.eager) indexTimer = setTimeout(indexMore, 0);
  onCleanup(() => clearTimeout(indexTimer));

  return {
    replay,
    live,
    version,
    cursor,
    seq,
    view,
    playing,
    speed,
    agentFilter,
    typeFilter,
    loading,
    streams,
    people,
    chatLimit,
    indexed,
    append(envs, render = true) {
      if (replay.append(envs) === 0 || !render) return;
      batch(() => {
        // a finished prompt's stream is replaced by its canonical answer
        const s = streams();
        if (s.size > 0) {
          const next = new Map(s);
          for (const e of envs) {
            const p = e.payload as { promptId?: string } | null;
            if (p?.promptId && (e.type === "prompt.completed" || e.type === "prompt.failed" || e.type === "prompt.cancelled")) next.delete(p.promptId);
          }
          if (next.size !== s.size) setStreams(next);
        }
        setVersion((v) => v + 1);
      });
    },
    render: () => setVersion((v) => v + 1),
    rebase(base) {
      replay.rebase(base);
      batch(() => {
        setIndexed(replay.indexed);
        setVersion((v) => v + 1);
      });
    },
    addMarkers(m) {
      replay.addMarkers(m);
      setVersion((v) => v + 1);
    },
    seek(s) {
      setCursor(s === null ? null : Math.max(0, Math.min(s, replay.headSeq)));
    },
    stepBy,
    setPlaying,
    setSpeed,
    setAgentFilter,
    setTypeFilter,
    setLoading,
    chunk(promptId, text) {
      const next = new Map(streams());
      next.set(promptId, (next.get(promptId) ?? "") + text);
      setStreams(next);
    },
    setPeople,
    tools,
    tool(promptId, t) {
      const next = new Map(tools());
      next.set(promptId, [...(next.get(promptId) ?? []), t]);
      setTools(next);
    },
    showMoreChat: () => setChatLimit((n) => n + 60),
    matches,
  };
};
