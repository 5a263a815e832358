import { chance, nextInt, type Random, type VirtualClock } from "@atelier/events";

/** How a link misbehaves; drawn per seed (VOPR-style) and zeroed when the liveness phase heals it. */
export interface LinkProfile {
  /** F9: probability a frame is lost. */
  loss: number;
  /** F10: probability a frame is delivered twice. */
  duplicate: number;
  /** F9: one-way delay bounds (ms); independent draws reorder frames. */
  minDelayMs: number;
  maxDelayMs: number;
}

export const calmLink = (): LinkProfile => ({ loss: 0, duplicate: 0, minDelayMs: 1, maxDelayMs: 20 });

/** Counts of what a link did to frames, for the coverage table. */
export interface LinkStats {
  lost: number;
  duplicated: number;
  reordered: number;
  partitioned: number;
  clogged: number;
}

/**
 * One direction of a connection. Frames are closures run at delivery time on the simulation
 * clock; the receiver decides whether a frame from an old connection still counts (that is what
 * fencing is for).
 *
 * Two kinds, because TCP is not UDP. A `stream` link is a WebSocket: frames arrive in order and
 * are never duplicated; losing one means the connection broke (`onBreak`), and frames already in
 * flight still arrive, late, as an old connection's. A `datagram` link is a series of HTTP
 * requests: each can be lost, duplicated by a retry, or overtaken by a later one.
 */
export class Link {
  private partitionedUntil = 0;
  private clogUntil = 0;
  private held: Array<() => void> = [];
  private lastDeliverAt = 0;
  /** Called when a stream link loses a frame: the connection is gone. */
  onBreak: (() => void) | undefined;

  constructor(
    readonly name: string,
    private readonly clock: VirtualClock,
    private readonly random: Random,
    public profile: LinkProfile,
    private readonly stats: LinkStats,
    readonly stream: boolean,
  ) {}

  /** F8: frames sent before `until` vanish (one direction only: partitions can be asymmetric). */
  partition(ms: number): void {
    this.partitionedUntil = Math.max(this.partitionedUntil, this.clock.now() + ms);
  }

  /** F11: frames pile up until `ms` passes, then arrive in one burst. */
  clog(ms: number): void {
    const until = this.clock.now() + ms;
    if (until <= this.clogUntil) return;
    this.clogUntil = until;
    this.clock.setTimer(ms, () => {
      if (this.clock.now() < this.clogUntil) return;
      const burst = this.held;
      this.held = [];
      for (const f of burst) f();
    });
  }

  heal(): void {
    this.partitionedUntil = 0;
    this.clogUntil = 0;
    const burst = this.held;
    this.held = [];
    for (const f of burst) f();
  }

  get up(): boolean {
    return this.clock.now() >= this.partitionedUntil;
  }

  send(frame: () => void): void {
    if (!this.up || chance(this.random, this.profile.loss)) {
      if (this.up) this.stats.lost++;
      else this.stats.partitioned++;
      if (this.stream) this.onBreak?.();
      return;
    }
    const copies = !this.stream && chance(this.random, this.profile.duplicate) ? 2 : 1;
    if (copies === 2) this.stats.duplicated++;
    for (let i = 0; i < copies; i++) {
      let at = this.clock.now() + nextInt(this.random, this.profile.minDelayMs, Math.max(this.profile.minDelayMs, this.profile.maxDelayMs));
      // In-order delivery on a stream: a frame waits for the one before it.
      if (this.stream) at = Math.max(at, this.lastDeliverAt);
      else if (at < this.lastDeliverAt) this.stats.reordered++;
      this.lastDeliverAt = Math.max(this.lastDeliverAt, at);
      this.clock.setTimer(at - this.clock.now(), () => this.arrive(frame));
    }
  }

  /** Sends `frame` once after `delayMs`, bypassing loss: a frame an old connection left in flight (F14). */
  sendLate(frame: () => void, delayMs: number): void {
    this.clock.setTimer(delayMs, () => this.arrive(frame));
  }

  private arrive(frame: () => void): void {
    if (this.clock.now() < this.clogUntil) {
      this.stats.clogged++;
      this.held.push(frame);
      return;
    }
    frame();
  }
}
