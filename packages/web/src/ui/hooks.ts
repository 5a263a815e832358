/**
 * A small handle on `window.__atelier` for browser tests and the viewer bench: the open session,
 * the last load's timings, and a timed seek.
 */
import type { Session } from "./session.ts";

export interface LoadTiming {
  readonly events: number;
  readonly readMs: number;
  readonly parseMs: number;
  readonly foldMs: number;
  readonly renderMs: number;
  readonly totalMs: number;
}

interface Hooks {
  session?: Session;
  lastLoad?: LoadTiming;
  loads: number;
  /** Milliseconds from opening a file to the end of background indexing (every checkpoint built). */
  indexedMs?: number;
  /** Seeks and returns the milliseconds until the next frame has been painted. */
  seekPainted(seq: number): Promise<number>;
  /** Seeks and returns the milliseconds until the DOM reflects it (Solid updates synchronously). */
  seek(seq: number): number;
  seq(): number;
}

const hooks: Hooks = {
  loads: 0,
  seek(seq) {
    const t0 = performance.now();
    hooks.session?.seek(seq);
    // reading the view forces every memo to settle (they already ran synchronously)
    void hooks.session?.view();
    return performance.now() - t0;
  },
  seq: () => hooks.session?.seq() ?? 0,
  seekPainted(seq) {
    const t0 = performance.now();
    hooks.session?.seek(seq);
    void hooks.session?.view();
    return new Promise((resolve) => requestAnimationFrame(() => setTimeout(() => resolve(performance.now() - t0), 0)));
  },
};

(window as unknown as { __atelier: Hooks }).__atelier = hooks;

export const expose = (s: Session): void => {
  hooks.session = s;
};
export const recordLoad = (t: LoadTiming): void => {
  hooks.lastLoad = t;
  hooks.loads++;
};
let openedAt = 0;
export const markOpen = (): void => {
  openedAt = performance.now();
  hooks.indexedMs = undefined;
};
export const recordIndexed = (): void => {
  hooks.indexedMs = performance.now() - openedAt;
};
