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

/**
 * setTimeout takes a signed 32-bit count of ms: a longer delay (~24.8 days, e.g. a workspace's
 * lifetime) fires after 1 ms instead, with only a TimeoutOverflowWarning.
 */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** The wall clock of this machine. */
export const systemClock: Clock = {
  now: () => Date.now(), // clock-ok: the one place real time enters
  setTimer(delayMs, fn) {
    const deadline = Date.now() + Math.max(0, delayMs); // clock-ok: the system clock's own timers
    let handle: ReturnType<typeof setTimeout>;
    // A deadline beyond setTimeout's range is reached in steps, each re-measured against the wall clock.
    const arm = (): void => {
      const left = Math.max(0, deadline - Date.now()); // clock-ok: as above
      handle = left > MAX_TIMEOUT_MS ? setTimeout(arm, MAX_TIMEOUT_MS) : setTimeout(fn, left);
      handle.unref?.();
    };
    arm();
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
