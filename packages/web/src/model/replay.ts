/**
 * The browser's replay of a workspace log: envelopes folded through the very machines the server
 * runs (`@atelier/actors/machines`), with a checkpoint (a copy of every actor's snapshot, which
 * is cheap because XState snapshots are immutable) every `every` events, so seeking to any seq
 * costs one Map copy plus at most `every` transitions.
 */
import { machineFor, snapshotsOf, step, type ActorSnapshot, type AtelierEvent, type WorldState } from "@atelier/actors/machines";
import { indexAtOrBefore, timeOf, type Env, type Marker } from "./timeline.ts";
import { Derived } from "./derived.ts";

export interface Checkpoint {
  /** Number of events folded (events[0..count-1]). */
  readonly count: number;
  readonly actors: ReadonlyMap<string, ActorSnapshot>;
}

/** An event the machines refused or choked on; the viewer marks it and carries on. */
export interface Divergence {
  readonly seq: number;
  readonly entity: string;
  readonly type: string;
  readonly state: string;
  readonly message?: string;
}

export const DEFAULT_CHECKPOINT_EVERY = 512;

export class Replay {
  readonly events: Env[] = [];
  readonly markers: Marker[] = [];
  readonly checkpoints: Checkpoint[] = [{ count: 0, actors: new Map() }];
  readonly divergences: Divergence[] = [];
  derived = new Derived();
  /** The seq the first event follows: 0, or a snapshot's seq when history starts there (`rebase`). */
  baseSeq = 0;
  /** Actors after the first `folded` events (the fold frontier; the head once fully indexed). */
  private head = new Map<string, ActorSnapshot>();
  private folded = 0;
  /** Scratch state used for seeks, reused when stepping forward a little. */
  private scratch: { count: number; actors: Map<string, ActorSnapshot> } | undefined;

  /**
   * @param eager fold every appended event at once (live workspaces); otherwise events are only
   *   indexed on append and folded on demand or by `indexSome` in the background (files).
   */
  constructor(
    readonly eager = true,
    readonly every = DEFAULT_CHECKPOINT_EVERY,
  ) {}

  get headSeq(): number {
    return this.events.at(-1)?.seq ?? this.baseSeq;
  }
  get firstSeq(): number {
    return this.events[0]?.seq ?? this.baseSeq;
  }

  /**
   * Forgets every event and starts again after `base` (every actor's state at a seq, from a
   * stored snapshot), or from the log's beginning without one. A long workspace's studio loads
   * only its recent history this way.
   */
  rebase(base?: WorldState): void {
    const actors = base ? snapshotsOf(base) : new Map<string, ActorSnapshot>();
    this.events.length = 0;
    this.markers.length = 0;
    this.divergences.length = 0;
    this.checkpoints.length = 0;
    this.checkpoints.push({ count: 0, actors });
    this.head = new Map(actors);
    this.folded = 0;
    this.scratch = undefined;
    this.derived = new Derived(base);
    this.baseSeq = base?.seq ?? 0;
  }
  /** How many events have been folded (checkpoints exist up to here). */
  get indexed(): number {
    return this.folded;
  }

  /**
   * Appends envelopes (ignoring any whose seq is not past the head, so a reconnect overlap or a
   * duplicated frame is harmless). Returns how many were new.
   */
  append(envs: Iterable<Env>): number {
    let added = 0;
    for (const e of envs) {
      if (e.seq <= this.headSeq) continue;
      this.events.push(e);
      this.derived.add(e, this.events.length - 1);
      added++;
    }
    if (this.eager) this.foldTo(this.events.length);
    return added;
  }

  addMarkers(markers: Iterable<Marker>): void {
    for (const m of markers) this.markers.push(m);
  }

  /** Advances the fold frontier to `count` events, leaving a checkpoint every `every`. */
  private foldTo(count: number): void {
    const events = this.events;
    const head = this.head;
    for (let i = this.folded; i < count; i++) {
      this.fold(head, events[i]!);
      if ((i + 1) % this.every === 0) this.checkpoints.push({ count: i + 1, actors: new Map(head) });
    }
    if (count > this.folded) this.folded = count;
  }

  /** Folds for about `budgetMs` (background indexing); true once everything is folded. */
  indexSome(budgetMs = 12): boolean {
    const t0 = performance.now();
    while (this.folded < this.events.length) {
      this.foldTo(Math.min(this.events.length, this.folded + 256));
      if (performance.now() - t0 >= budgetMs) break;
    }
    return this.folded >= this.events.length;
  }

  /** One event through its machine; refusals are recorded, never thrown. */
  private fold(actors: Map<string, ActorSnapshot>, e: Env, record = true): void {
    if (!machineFor(e.entity)) return;
    try {
      const s = step(e.entity, actors.get(e.entity), { type: e.type, payload: e.payload } as AtelierEvent);
      if (s.accepted) actors.set(e.entity, s.after);
      else if (record) this.divergences.push({ seq: e.seq, entity: e.entity, type: e.type, state: s.from });
    } catch (error) {
      if (record) this.divergences.push({ seq: e.seq, entity: e.entity, type: e.type, state: "?", message: String(error) });
    }
  }

  /**
   * Every actor as it was right after event `seq` (clamped to the log). The Map is owned by the
   * replay and valid until the next call: derive what you need from it at once.
   */
  actorsAt(seq: number): ReadonlyMap<string, ActorSnapshot> {
    const count = indexAtOrBefore(this.events, seq) + 1;
    if (count >= this.folded) {
      this.foldTo(count);
      return this.head;
    }
    const cp = this.checkpoints[Math.min(this.checkpoints.length - 1, Math.floor(count / this.every))]!;
    const s = this.scratch;
    let actors: Map<string, ActorSnapshot>;
    let from: number;
    if (s && s.count <= count && s.count >= cp.count) {
      actors = s.actors;
      from = s.count;
    } else {
      actors = new Map(cp.actors);
      from = cp.count;
    }
    for (let i = from; i < count; i++) this.fold(actors, this.events[i]!, false);
    this.scratch = { count, actors };
    return actors;
  }

  /** The seq of the event at or before `seq` (what a seek lands on); the base before the first. */
  landing(seq: number): number {
    const i = indexAtOrBefore(this.events, seq);
    return i < 0 ? this.baseSeq : this.events[i]!.seq;
  }

  /** Epoch ms at `seq` (the time of the last event at or before it). */
  timeAt(seq: number): number {
    const i = indexAtOrBefore(this.events, seq);
    return i < 0 ? (this.events[0] ? timeOf(this.events[0]) : 0) : timeOf(this.events[i]!);
  }
}

/**
 * Builds a lazily folded replay from parsed envelopes (indexing them for lanes, chat and plots)
 * in slices, yielding to the page between them; `onProgress(done, total)` after each slice.
 * Fold the rest with `indexSome` in the background, or let seeks fold on demand.
 */
export const loadReplay = async (
  events: readonly Env[],
  markers: readonly Marker[] = [],
  onProgress?: (done: number, total: number) => void,
  slice = 20_000,
): Promise<Replay> => {
  const r = new Replay(false);
  r.addMarkers(markers);
  for (let i = 0; i < events.length; i += slice) {
    r.append(events.slice(i, i + slice));
    onProgress?.(Math.min(events.length, i + slice), events.length);
    if (i + slice < events.length) await new Promise((resolve) => setTimeout(resolve, 0));
  }
  return r;
};
