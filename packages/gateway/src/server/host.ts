import type { Clock, Envelope, FsyncPolicy, Storage, VerifiedLog } from "@atelier/events";
import { openWorkspace, type Workspace } from "@atelier/actors";
import { openProjection, type Projection } from "@atelier/projections";
import { readModelReports } from "./read-models.ts";

/** A connected studio client as the host sees it: where committed events and ephemera go. */
export interface ClientSink {
  readonly id: string;
  readonly name: string;
  readonly role: string;
  /** A committed event, already serialised once for every client. */
  deliver(seq: number, frame: string): void;
  /** An ephemeral message (stream chunk, presence): never stored, never replayed. */
  send(frame: string): void;
}

export interface HostOptions {
  readonly clock?: Clock;
  readonly fsync?: FsyncPolicy;
  /** The storage driver of the log and snapshots (default: the local file system). */
  readonly storage?: Storage;
  /** Where the host says what happened to its read models (a failed apply, a repair), one line each. */
  readonly log?: (line: string) => void;
  /** What a restore just verified of the log: the open does not check it again. */
  readonly verifiedLog?: VerifiedLog | undefined;
  /**
   * Awaited between log segments while the open checks the chain, and between a projection
   * rebuild's transactions, so that the server answers meanwhile.
   */
  readonly giveWay?: () => Promise<void>;
}

/**
 * One open workspace: its actors (the write side), its projection (the read side, caught up on
 * every commit before clients hear of it) and the studio clients connected to it.
 */
export class WorkspaceHost {
  readonly clients = new Set<ClientSink>();
  private readonly unsubscribe: () => void;
  private readonly closeHooks = new Set<(reason: string) => void>();
  private attached = 0;

  private constructor(
    readonly id: string,
    readonly dir: string,
    readonly ws: Workspace,
    readonly projection: Projection,
    readonly demo: boolean,
  ) {
    // Registered after the projection's own listener, so a client that queries REST on hearing
    // of an event already finds it in the read models.
    this.unsubscribe = ws.log.onCommit((envelopes) => this.fanOut(envelopes));
  }

  static async open(dir: string, id: string, name: string, demo: boolean, options: HostOptions = {}): Promise<WorkspaceHost> {
    const ws = await openWorkspace(dir, {
      workspace: id,
      name,
      ...(options.clock ? { clock: options.clock } : {}),
      fsync: options.fsync ?? "batch",
      ...(options.storage ? { storage: options.storage } : {}),
      ...(options.verifiedLog ? { verifiedLog: options.verifiedLog } : {}),
      ...(options.giveWay ? { giveWay: options.giveWay } : {}),
    });
    try {
      const projection = await openProjection(dir, ws.log, { ...readModelReports(id, options.log), giveWay: options.giveWay });
      return new WorkspaceHost(id, dir, ws, projection, demo);
    } catch (error) {
      await ws.close();
      throw error;
    }
  }

  /** The last committed seq. */
  get head(): number {
    return this.ws.log.head();
  }

  private fanOut(envelopes: readonly Envelope[]): void {
    if (this.clients.size === 0) return;
    for (const event of envelopes) {
      const frame = JSON.stringify({ type: "event", event });
      for (const client of this.clients) client.deliver(event.seq, frame);
    }
  }

  /** Sends an ephemeral message to every client. */
  broadcast(message: object): void {
    if (this.clients.size === 0) return;
    const frame = JSON.stringify(message);
    for (const client of this.clients) client.send(frame);
  }

  presence(): Array<{ id: string; name: string; role: string }> {
    return [...this.clients].map((c) => ({ id: c.id, name: c.name, role: c.role }));
  }

  /** Sockets (studio, replay, runner) attached to this workspace now. */
  get sockets(): number {
    return this.attached;
  }

  /**
   * Counts a socket on this workspace; `onHostClose` runs, with why, if the host closes under it.
   * Returns the detach, to call when the socket ends (once is enough; more is harmless).
   */
  attachSocket(onHostClose: (reason: string) => void): () => void {
    this.attached++;
    const off = this.onClose(onHostClose);
    let detached = false;
    return () => {
      if (detached) return;
      detached = true;
      this.attached--;
      off();
    };
  }

  /** Runs `hook` with why when the host closes (its sockets are closed then); returns the unsubscribe. */
  onClose(hook: (reason: string) => void): () => void {
    this.closeHooks.add(hook);
    return () => void this.closeHooks.delete(hook);
  }

  /**
   * Stops fan-out and closes the projection and the log (the log writes a final snapshot).
   * `reason` is what its sockets are told as they are closed.
   */
  async close(reason = "workspace closed: reconnect to open it again"): Promise<void> {
    this.unsubscribe();
    for (const hook of [...this.closeHooks]) hook(reason);
    this.closeHooks.clear();
    await this.ws.close();
    // Awaited: its checkpointer stops first, and the file must be closed before the folder is archived or wiped.
    await this.projection.close();
  }
}
