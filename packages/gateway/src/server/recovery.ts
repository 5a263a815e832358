import { LogFailed, type Clock } from "@atelier/events";
import type { WorkspaceCatalog, WorkspaceRow } from "../catalog/workspaces.ts";
import type { WorkspaceHost } from "./host.ts";
import type { ServedWorkspaces } from "./served.ts";

/**
 * A workspace whose log failed is reopened after 1 s, then after twice as long each time the
 * reopen fails or the log fails again soon after it (a disk still full), up to a minute.
 */
const REOPEN_FIRST_MS = 1_000;
const REOPEN_MAX_MS = 60_000;

export interface RecoveryContext {
  readonly served: ServedWorkspaces;
  readonly catalog: WorkspaceCatalog;
  readonly clock: Clock;
  /** Opens a catalogued workspace from its folder and serves it, as the start does. */
  readonly reopen: (row: WorkspaceRow) => Promise<void>;
  readonly log: (line: string) => void;
}

/**
 * Brings back workspaces whose log failed (ADR 0013). Such a workspace refuses every command and
 * its actors' timers are stopped: it is closed, listed unavailable with why, and reopened from its
 * log in the background, which recovers what was durable, until a reopen holds.
 */
export class LogFailureRecovery {
  /** The pending reopen of each workspace whose log failed, and its delay (doubled while it keeps failing). */
  private readonly reopening = new Map<string, { timer: NodeJS.Timeout | undefined; delayMs: number; reopenedAt: number | undefined }>();

  constructor(private readonly context: RecoveryContext) {}

  recover(host: WorkspaceHost, error: Error): Promise<void> {
    const { served, clock, log } = this.context;
    return served.serialized(host.id, async () => {
      if (served.closing || served.hosts.get(host.id) !== host) return;
      const last = this.reopening.get(host.id);
      // Failed again soon after a reopen: the cause is still there, so wait longer.
      const again = last?.reopenedAt !== undefined && clock.now() - last.reopenedAt < REOPEN_MAX_MS;
      const delayMs = again ? Math.min(last!.delayMs * 2, REOPEN_MAX_MS) : REOPEN_FIRST_MS;
      // Listed and answered as unavailable from now on, not missing while it closes.
      const cause = error instanceof LogFailed ? error.reason : error.message;
      served.unavailable.set(host.id, { reason: `its log failed (${cause}); it is reopened from its log ${delayMs / 1000} s after that`, since: "log-failure" });
      log(`workspace ${host.id}: its log failed, closing it; reopened in ${delayMs / 1000} s: ${cause}`);
      await served.withdraw(host.id);
      await host.close("the workspace's log failed: reconnect once it is reopened").catch((e: unknown) => log(`closing ${host.id}: ${String(e)}`));
      this.schedule(host.id, delayMs, cause);
    });
  }

  /** Cancels every pending reopen (the gateway is closing). */
  stop(): void {
    for (const { timer } of this.reopening.values()) clearTimeout(timer);
  }

  private schedule(id: string, delayMs: number, cause: string): void {
    const timer = setTimeout(() => void this.reopen(id, delayMs, cause), delayMs);
    timer.unref();
    this.reopening.set(id, { timer, delayMs, reopenedAt: undefined });
  }

  private reopen(id: string, delayMs: number, cause: string): Promise<void> {
    const { served, catalog, clock, log } = this.context;
    return served.serialized(id, async () => {
      const row = catalog.get(id);
      if (served.closing || !row || served.hosts.has(id)) return;
      try {
        await this.context.reopen(row);
        served.unavailable.delete(id);
        this.reopening.set(id, { timer: undefined, delayMs, reopenedAt: clock.now() });
        log(`workspace ${id}: reopened after its log failed`);
      } catch (error) {
        const next = Math.min(delayMs * 2, REOPEN_MAX_MS);
        const why = error instanceof Error ? error.message : String(error);
        served.unavailable.set(id, { reason: `its log failed (${cause}), and reopening it failed (${why}); tried again ${next / 1000} s after that`, since: "log-failure" });
        log(`workspace ${id}: reopening after its log failed did not hold, tried again in ${next / 1000} s: ${why}`);
        this.schedule(id, next, cause);
      }
    });
  }
}
