import { CommandRejected, openWorkspace, type Workspace } from "@atelier/actors";
import { LogLocked, startMirror, type FsyncPolicy, type MemoryJetStream, type MemoryStorage, type Mirror, type Random, type VirtualClock } from "@atelier/events";
import { AGENTS, DIR, HEARTBEAT_TTL_MS, LEASE_MS, PROJECTION_CHECKPOINT_EVERY_MS, SNAPSHOT_EVERY, WORKSPACE, WORKSPACE_CONFIG } from "./config.ts";
import { HostClock } from "./host-clock.ts";
import type { SimObjectStore } from "./object-store.ts";
import type { ProjectionHost } from "./projection.ts";

/** What outlives a host process: the machine's disk, clock skew, the remote services. */
export interface HostEnv {
  readonly base: VirtualClock;
  readonly skew: { offsetMs: number };
  readonly storage: MemoryStorage;
  /** Ids and tokens of the workspace (one stream across restarts, so a seed replays). */
  readonly random: Random;
  readonly mirrorRandom: Random;
  readonly objectStore: SimObjectStore;
  readonly jetstream: MemoryJetStream;
  readonly fsync: FsyncPolicy;
  readonly projection: ProjectionHost;
}

export class HostDown extends Error {
  constructor() {
    super("workspace host is down");
  }
}

/**
 * One incarnation of the workspace host process: the real `openWorkspace` (actors, log, timers),
 * the real projection and the real mirror, on this process's clock. It ends by crashing: there is
 * no clean shutdown in the simulation, because a clean one proves nothing.
 */
export class Host {
  /** Why the host must be restarted (its log failed), if it must. */
  sick: string | undefined;
  private checkpointTimer: { cancel(): void } | undefined;

  private constructor(
    readonly epoch: number,
    readonly ws: Workspace,
    readonly clock: HostClock,
    readonly mirror: Mirror,
    private readonly env: HostEnv,
  ) {
    this.scheduleCheckpoint();
  }

  /** SQLite folds its WAL now and then; what it folded is what a power loss keeps (F19). */
  private scheduleCheckpoint(): void {
    this.checkpointTimer = this.clock.setTimer(PROJECTION_CHECKPOINT_EVERY_MS, () => {
      this.env.projection.checkpoint();
      this.scheduleCheckpoint();
    });
  }

  /** Opens the workspace on the disk as it is; throws what recovery throws (LogCorrupted, I/O). */
  static async start(env: HostEnv, epoch: number): Promise<{ host: Host; projectionStale: string | undefined }> {
    const clock = new HostClock(env.base, env.skew);
    let ws: Workspace;
    try {
      ws = await openWorkspace(DIR, {
        workspace: WORKSPACE,
        storage: env.storage,
        clock,
        random: env.random,
        fsync: env.fsync,
        snapshotEvery: SNAPSHOT_EVERY,
        leaseMs: LEASE_MS,
        heartbeatTtlMs: HEARTBEAT_TTL_MS,
        snapshotStore: env.objectStore,
        config: WORKSPACE_CONFIG,
      });
      for (const agentId of AGENTS) if (!ws.agents.get(agentId)) await ws.agents.register({ agentId, vendor: "claude", model: "sim" });
    } catch (error) {
      clock.kill();
      // A half-opened host dies with its handles and lock; a refused one (LogLocked) never had them.
      if (!(error instanceof LogLocked)) env.storage.killProcess();
      throw error;
    }
    const projectionStale = env.projection.open(ws.log);
    const mirror = startMirror(ws.log, { jetstream: env.jetstream.connect, clock, random: env.mirrorRandom, timeoutMs: 2000 });
    return { host: new Host(epoch, ws, clock, mirror, env), projectionStale };
  }

  get alive(): boolean {
    return !this.clock.dead;
  }

  /** Runs a request that reached this host. A refusal is an answer; anything else means the log failed. */
  async call<T>(fn: (ws: Workspace) => Promise<T>): Promise<T> {
    if (!this.alive) throw new HostDown();
    try {
      return await fn(this.ws);
    } catch (error) {
      if (!(error instanceof CommandRejected) && this.alive) this.sick ??= error instanceof Error ? error.message : String(error);
      throw error;
    }
  }

  /** A frame arriving at this process: held while it is paused, dropped once it is dead. */
  deliver(frame: () => void): void {
    if (this.alive) this.clock.setTimer(0, frame);
  }

  /** kill -9 (`process`) or power loss (`power`, F2/F3: unsynced bytes lost or torn). */
  async crash(kind: "process" | "power", random: Random, keepTornPrefix: number): Promise<void> {
    this.checkpointTimer?.cancel();
    this.clock.kill();
    void this.mirror.stop().catch(() => undefined);
    if (kind === "process") this.env.storage.killProcess();
    else this.env.storage.crash(random, { keepTornPrefix });
    await this.env.projection.stop(kind);
  }
}
