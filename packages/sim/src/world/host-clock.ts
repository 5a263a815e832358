import type { Clock, Timer, VirtualClock } from "@atelier/events";

/**
 * The clock one process sees. Timers belong to the process: a crash cancels them (a dead process
 * has none), a pause (F12, SIGSTOP) holds them until it ends, and a wall-clock step (F13, in
 * `skew`) moves `now()` without moving the simulation's own time.
 */
export class HostClock implements Clock {
  private pausedUntil = 0;
  private alive = true;
  private readonly timers = new Set<{ cancelled: boolean; inner: Timer }>();

  /** `skew` is the machine's wall-clock offset; it outlives the process (a restart keeps it). */
  constructor(
    private readonly base: VirtualClock,
    private readonly skew: { offsetMs: number },
  ) {}

  now(): number {
    return this.base.now() + this.skew.offsetMs;
  }

  setTimer(delayMs: number, fn: () => void): Timer {
    const handle = { cancelled: false, inner: undefined as unknown as Timer };
    const fire = () => {
      this.timers.delete(handle);
      if (handle.cancelled || !this.alive) return;
      // A paused process runs nothing; its overdue timers fire together when it resumes.
      const wait = this.pausedUntil - this.base.now();
      if (wait > 0) {
        handle.inner = this.base.setTimer(wait, fire);
        this.timers.add(handle);
        return;
      }
      fn();
    };
    handle.inner = this.base.setTimer(delayMs, fire);
    this.timers.add(handle);
    return {
      cancel: () => {
        handle.cancelled = true;
        handle.inner.cancel();
        this.timers.delete(handle);
      },
    };
  }

  get paused(): boolean {
    return this.base.now() < this.pausedUntil;
  }

  get dead(): boolean {
    return !this.alive;
  }

  pause(ms: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, this.base.now() + ms);
  }

  unpause(): void {
    this.pausedUntil = 0;
  }

  kill(): void {
    this.alive = false;
    for (const t of this.timers) t.inner.cancel();
    this.timers.clear();
  }
}
