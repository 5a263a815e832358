import type { Clock } from "@atelier/events";
import { ApiError } from "../http/errors.ts";
import type { WorkspaceHost } from "./host.ts";
import type { Mirrors } from "./mirrors.ts";

/** Why a catalogued workspace is not served: the start could not open it, or its log failed and it is not reopened yet. */
export interface Unavailable {
  readonly reason: string;
  readonly since: "start" | "log-failure";
}

/**
 * The workspaces a gateway serves, and one queue per workspace through which everything that
 * opens or closes it goes (start, hibernation, resume, reopen, closing an unused one), so that
 * two of them never overlap.
 */
export class ServedWorkspaces {
  readonly hosts = new Map<string, WorkspaceHost>();
  /**
   * Workspaces not served, with why: listed, answered with a 503. One the start could not open is
   * tried again at the next start; one whose log failed is reopened in the background.
   */
  readonly unavailable = new Map<string, Unavailable>();
  /** Set once by a gateway that mirrors its logs to NATS, before it serves anything. */
  mirrors: Mirrors | undefined;
  /** Set once the gateway closes: nothing is opened any more. */
  closing = false;
  /** When each served workspace was last asked for or left by its last socket. */
  private readonly lastUse = new Map<string, number>();
  private readonly ops = new Map<string, Promise<unknown>>();

  constructor(private readonly clock: Clock) {}

  /** Serves `host`, mirrored when the gateway mirrors. */
  add(host: WorkspaceHost): void {
    this.hosts.set(host.id, host);
    this.touch(host.id);
    this.mirrors?.attach(host);
  }

  /** Stops serving workspace `id` (its host is the caller's to close). */
  async withdraw(id: string): Promise<void> {
    // The mirror first: until the workspace leaves the table a request finds it served, not missing
    // (a 404 would end its runners for good), and the detach awaits the mirror's publishes in flight.
    await this.mirrors?.detach(id);
    this.hosts.delete(id);
    this.lastUse.delete(id);
  }

  /** Notes that workspace `id` was asked for, or left by a socket, now. */
  touch(id: string): void {
    this.lastUse.set(id, this.clock.now());
  }

  /** Milliseconds since workspace `id` was last asked for or left. */
  unusedFor(id: string): number {
    const now = this.clock.now();
    return now - (this.lastUse.get(id) ?? now);
  }

  /** Runs `fn` after everything queued before it for workspace `id`, whether that failed or not. */
  serialized<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const next = (this.ops.get(id) ?? Promise.resolve()).then(fn, fn);
    const tail = next.catch(() => undefined);
    this.ops.set(id, tail);
    void tail.then(() => {
      if (this.ops.get(id) === tail) this.ops.delete(id);
    });
    return next;
  }

  /**
   * Workspace `id` as served, or, if it is not once everything queued for it has run, the host
   * `open` serves (refused with 503 once the gateway is closing).
   */
  servedOr(id: string, open: () => Promise<WorkspaceHost>): Promise<WorkspaceHost> {
    return this.serialized(id, async () => {
      const served = this.hosts.get(id);
      if (served) return served;
      this.assertOpen();
      return open();
    });
  }

  /** Resolves once everything queued so far has run. */
  async settled(): Promise<void> {
    await Promise.all([...this.ops.values()]);
  }

  /** Throws the 503 a request gets once the gateway is closing. */
  assertOpen(): void {
    if (this.closing) throw shuttingDown();
  }
}

export const shuttingDown = (): ApiError => new ApiError(503, "unavailable", "the gateway is shutting down");
