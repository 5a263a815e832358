/** A cancellable timer handle returned by a Clock. */
export interface Timer {
  cancel(): void;
}

/**
 * Time as a service: deterministic code reads the time and arms timers only through this,
 * so the simulator can substitute a virtual clock.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Runs `fn` once `delayMs` has passed on this clock. */
  setTimer(delayMs: number, fn: () => void): Timer;
}

/** The wall clock of this machine. */
export const systemClock: Clock = {
  now: () => Date.now(), // clock-ok: the one place real time enters
  setTimer(delayMs, fn) {
    const handle = setTimeout(fn, Math.max(0, delayMs));
    handle.unref?.();
    return { cancel: () => clearTimeout(handle) };
  },
};

interface PendingTimer {
  at: number;
  order: number;
  fn: () => void;
  cancelled: boolean;
}

/**
 * A clock that moves only when told to. Timers fire in deadline order (ties in arming order),
 * so a run is a pure function of its inputs.
 */
export class VirtualClock implements Clock {
  private current: number;
  private timers: PendingTimer[] = [];
  private armed = 0;

  constructor(startMs = Date.UTC(2026, 0, 1)) {
    this.current = startMs;
  }

  now(): number {
    return this.current;
  }

  setTimer(delayMs: number, fn: () => void): Timer {
    const timer: PendingTimer = { at: this.current + Math.max(0, delayMs), order: this.armed++, fn, cancelled: false };
    this.timers.push(timer);
    return { cancel: () => void (timer.cancelled = true) };
  }

  /** The deadline of the next live timer, if any. */
  nextDeadline(): number | undefined {
    this.timers = this.timers.filter((t) => !t.cancelled);
    let next: number | undefined;
    for (const t of this.timers) if (next === undefined || t.at < next) next = t.at;
    return next;
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way. */
  advance(ms: number): void {
    this.advanceTo(this.current + ms);
  }

  advanceTo(target: number): void {
    for (;;) {
      const due = this.timers
        .filter((t) => !t.cancelled && t.at <= target)
        .sort((a, b) => a.at - b.at || a.order - b.order)[0];
      if (!due) break;
      due.cancelled = true;
      this.current = Math.max(this.current, due.at);
      due.fn();
    }
    this.timers = this.timers.filter((t) => !t.cancelled);
    this.current = Math.max(this.current, target);
  }
}
