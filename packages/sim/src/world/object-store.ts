import type { SnapshotStore } from "@atelier/actors";
import type { VirtualClock } from "@atelier/events";

/** F20: what the next call does wrong. */
export type ObjectFault = "error" | "lost-response" | "timeout";

/**
 * GCS/S3 as the hibernation port sees it (`SnapshotStore` of @atelier/actors: put, get). Simulated,
 * not the real drivers: they talk HTTP to a remote service, which no seed can replay. Latency is
 * a round trip on the simulation clock; faults are armed one call at a time.
 */
export class SimObjectStore implements SnapshotStore {
  readonly objects = new Map<string, Uint8Array>();
  private pending: ObjectFault[] = [];
  fired = { error: 0, "lost-response": 0, timeout: 0 };

  constructor(
    private readonly clock: VirtualClock,
    private readonly latencyMs = 40,
    private readonly timeoutMs = 30_000,
  ) {}

  arm(fault: ObjectFault): void {
    this.pending.push(fault);
  }

  heal(): void {
    this.pending = [];
  }

  private roundTrip<T>(body: (fault: ObjectFault | undefined) => T): Promise<T> {
    const fault = this.pending.shift();
    if (fault) this.fired[fault]++;
    return new Promise<T>((resolve, reject) => {
      // A timeout is the client giving up; whether the server acted is unknown to it.
      const wait = fault === "timeout" ? this.timeoutMs : this.latencyMs;
      this.clock.setTimer(wait, () => {
        try {
          resolve(body(fault));
        } catch (error) {
          reject(error);
        }
      });
    });
  }

  put(key: string, data: Uint8Array): Promise<void> {
    return this.roundTrip((fault) => {
      if (fault === "error") throw new Error(`object store: 503 on put ${key}`);
      this.objects.set(key, data.slice());
      if (fault === "lost-response" || fault === "timeout") throw new Error(`object store: no response to put ${key}`);
    });
  }

  get(key: string): Promise<Uint8Array | undefined> {
    return this.roundTrip((fault) => {
      if (fault !== undefined) throw new Error(`object store: ${fault} on get ${key}`);
      return this.objects.get(key)?.slice();
    });
  }
}
