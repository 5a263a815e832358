/** Abuse limits of the edge (SIMULATION F25); every one is configurable for tests. */
export interface Limits {
  /** Largest WebSocket frame accepted; larger ones close the socket with 1009. */
  readonly maxFrameBytes: number;
  /** Largest REST request body. */
  readonly maxBodyBytes: number;
  /** Token bucket per studio connection (frames per second, burst). */
  readonly clientRate: { readonly perSecond: number; readonly burst: number };
  /** Token bucket per runner connection: chunks stream fast, so it is wider. */
  readonly runnerRate: { readonly perSecond: number; readonly burst: number };
  readonly maxClientsPerWorkspace: number;
  /** A client whose unsent backlog passes this is closed (it reconnects with `since`). */
  readonly maxBufferedBytes: number;
  /** A `since` further behind than this many events gets a resync instead of the gap. */
  readonly maxCatchUp: number;
}

export const DEFAULT_LIMITS: Limits = {
  maxFrameBytes: 64 * 1024,
  maxBodyBytes: 64 * 1024,
  clientRate: { perSecond: 20, burst: 100 },
  runnerRate: { perSecond: 500, burst: 2000 },
  maxClientsPerWorkspace: 1000,
  maxBufferedBytes: 8 * 1024 * 1024,
  maxCatchUp: 10_000,
};

/** A token bucket: `take()` is false once the connection has used its burst faster than the rate. */
export class RateLimiter {
  private tokens: number;
  private last: number;

  constructor(
    private readonly rate: { readonly perSecond: number; readonly burst: number },
    private readonly now: () => number,
  ) {
    this.tokens = rate.burst;
    this.last = now();
  }

  take(): boolean {
    const t = this.now();
    this.tokens = Math.min(this.rate.burst, this.tokens + ((t - this.last) / 1000) * this.rate.perSecond);
    this.last = t;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
