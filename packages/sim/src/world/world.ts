import { LogCorrupted, LogFailed, MemoryJetStream, seededRandom, StorageError, VirtualClock, type FsyncPolicy, type Random, type Timer } from "@atelier/events";
import { LogModel } from "../checkers/model.ts";
import { Probes } from "../checkers/probes.ts";
import { fail, Violation } from "../checkers/violation.ts";
import type { FaultName, FaultProfile } from "../faults/catalogue.ts";
import { SimClient } from "./client.ts";
import { AGENTS, USERS } from "./config.ts";
import { SimDisk } from "./disk.ts";
import { FileGateway } from "./files.ts";
import { Host } from "./host.ts";
import { calmLink, Link, type LinkStats } from "./network.ts";
import { SimObjectStore } from "./object-store.ts";
import type { Plant } from "./plant.ts";
import { ProjectionHost } from "./projection.ts";
import { SimRunner } from "./runner.ts";

/** A simulator marker line of the timeline (see docs/decisions/0007-simulator.md). */
export interface Marker {
  readonly entity: "sim";
  readonly type: string;
  readonly afterSeq: number;
  readonly at: number;
  readonly step: number;
  readonly payload: Record<string, unknown>;
}

/**
 * Checks that run when a host comes up after a crash (I2–I4, I8), set by the checkers. They may
 * crash and reopen it (I4), so they return the host the world should adopt.
 */
export type RecoveryCheck = (world: World, host: Host, projectionStale: string | undefined) => Promise<Host>;

const START_MS = Date.UTC(2026, 0, 5, 9);
/** The scheduler's granularity (ms). */
const TICK_MS = 10;

/** A seed-derived, independent stream per purpose, so one part's draws do not shift another's. */
export const fork = (seed: number, stream: number): Random => seededRandom((Math.imul(seed, 0x9e3779b1) ^ Math.imul(stream + 1, 0x85ebca6b)) >>> 0);

/**
 * Everything of one run: one thread, the seed's PRNG streams, the virtual clock, the in-memory
 * disk, the links, the remote services, the host process (restarted after crashes), the runners
 * and the users. The real packages run inside it unchanged.
 */
export class World {
  readonly clock = new VirtualClock(START_MS);
  readonly storage = new SimDisk();
  readonly skew = { offsetMs: 0 };
  readonly probes = new Probes();
  readonly objectStore: SimObjectStore;
  readonly jetstream: MemoryJetStream;
  readonly projection = new ProjectionHost();
  readonly files: FileGateway;
  readonly runners: SimRunner[];
  readonly clients: SimClient[];
  readonly links: Link[] = [];
  readonly linkStats: LinkStats = { lost: 0, duplicated: 0, reordered: 0, partitioned: 0, clogged: 0 };
  readonly fired = new Map<FaultName, number>();
  readonly markers: Marker[] = [];
  /** Violations seen inside requests and callbacks, thrown by the next check. */
  readonly violations: Violation[] = [];
  readonly faultRandom: Random;
  readonly fsync: FsyncPolicy;
  model: LogModel;
  host: Host | undefined;
  step = 0;
  /** Highest acknowledged (durable) event: nothing at or before it may be lost (I2). */
  acked = { seq: 0, hash: "" };
  /** A bit flipped in the log that recovery must refuse (I3), undone once it has. */
  corruption: { path: string; offset: number; bit: number; inLog: boolean } | undefined;
  /** A snapshot whose bytes were damaged (F4): recovery must not start from it as it is. */
  damagedSnapshot: string | undefined;
  /** Armed by F27: the next recovery meets an I/O error. */
  recoveryFault = false;
  /** JetStream is down (F17) until this restart runs. */
  jetstreamDown: { timer: Timer; restart(): void } | undefined;
  private epoch = 0;
  private restartAt: number | undefined = 0;
  private restarting = false;
  private crashLoop = 0;
  private hostSince = 0;
  private readonly workspaceRandom: Random;
  private readonly mirrorRandom: Random;

  constructor(
    readonly seed: number,
    readonly profile: FaultProfile,
    readonly plant: Plant | undefined,
    private readonly onRecovery: RecoveryCheck,
  ) {
    this.workspaceRandom = fork(seed, 1);
    this.mirrorRandom = fork(seed, 2);
    this.faultRandom = fork(seed, 3);
    this.fsync = (seed & 1) === 0 ? "batch" : "always";
    this.model = new LogModel(this.probes);
    this.objectStore = new SimObjectStore(this.clock);
    this.jetstream = new MemoryJetStream(this.clock);
    const violate = (v: Violation) => void this.violations.push(v);
    this.files = new FileGateway(() => this.syncedModel(), this.probes, plant, violate);
    // Runners hold WebSockets (stream links); users send HTTP requests (datagram links).
    const link = (name: string, stream: number, websocket: boolean) => {
      const l = new Link(name, this.clock, fork(seed, stream), { loss: profile.loss, duplicate: profile.duplicate, minDelayMs: 1, maxDelayMs: profile.maxDelayMs }, this.linkStats, websocket);
      this.links.push(l);
      return l;
    };
    const runnerWorld = { clock: this.clock, files: this.files, probes: this.probes, plant, host: () => this.host, violate };
    this.runners = AGENTS.map((agent, i) => new SimRunner(agent, runnerWorld, fork(seed, 10 + i), link(`${agent}↑`, 20 + i, true), link(`${agent}↓`, 30 + i, true)));
    const clientWorld = { clock: this.clock, probes: this.probes, host: () => this.host };
    this.clients = USERS.map((user, i) => new SimClient(user, clientWorld, link(`${user}↑`, 40 + i, false), link(`${user}↓`, 50 + i, false)));
  }

  count(fault: FaultName): void {
    this.fired.set(fault, (this.fired.get(fault) ?? 0) + 1);
  }

  note(type: string, payload: Record<string, unknown> = {}): void {
    this.markers.push({ entity: "sim", type, afterSeq: this.host?.alive ? this.host.ws.log.head() : this.acked.seq, at: this.clock.now(), step: this.step, payload });
  }

  /** The log model, first fed every line the live log has committed since it last looked. */
  syncedModel(): LogModel {
    const host = this.host;
    if (host?.alive) for (const { line } of host.ws.log.readRaw({ from: this.model.seq + 1 })) this.model.feedLine(line);
    return this.model;
  }

  // ---- the host process -----------------------------------------------------------------------

  /** Crashes the host between its next write (the next whose bytes `match`, when given) and that write's fsync. */
  crashMidAppend(kind: "process" | "power", downMs: number, keepTornPrefix: number, match?: (data: Uint8Array) => boolean): void {
    const host = this.host;
    this.storage.onNextAppend(() => {
      if (this.host === host) void this.crashHost(kind, downMs, keepTornPrefix);
    }, match);
  }

  /** Crashes the host; the supervisor restarts it after `downMs`. */
  async crashHost(kind: "process" | "power", downMs: number, keepTornPrefix = 0): Promise<void> {
    const host = this.host;
    if (!host) return;
    this.syncedModel();
    this.host = undefined;
    await host.crash(kind, this.faultRandom, keepTornPrefix);
    for (const r of this.runners) r.hostDied(host.epoch, 100 + (this.faultRandom.nextUint32() % 2000));
    this.restartAt = this.clock.now() + downMs;
    this.note("sim.crash", { kind, keepTornPrefix, downMs });
  }

  /** Starts the host when it is due; a failed recovery is judged (I3) and retried later. */
  async supervise(): Promise<void> {
    if (this.host?.sick !== undefined) {
      this.note("sim.host_failed", { reason: this.host.sick });
      // A supervisor backs off a crash loop (a full disk fails every restart until healed).
      await this.crashHost("process", Math.min(30_000, 200 * 2 ** this.crashLoop++));
    } else if (this.host && this.clock.now() - this.hostSince > 60_000) this.crashLoop = 0;
    if (this.host || this.restarting || this.restartAt === undefined || this.clock.now() < this.restartAt) return;
    this.restarting = true;
    try {
      await this.start();
    } finally {
      this.restarting = false;
    }
  }

  private async start(): Promise<void> {
    if (this.recoveryFault) {
      this.recoveryFault = false;
      this.storage.injectFault({ op: "sync", code: "EIO", afterOps: 0, persistent: false });
    }
    let started: Awaited<ReturnType<typeof Host.start>>;
    try {
      started = await this.openHost();
    } catch (error) {
      return this.recoveryFailed(error);
    }
    if (this.corruption?.inLog) {
      await started.host.crash("process", this.faultRandom, 0);
      fail("I3", `a flipped bit at ${this.corruption.path}:${this.corruption.offset} was not detected; recovery carried on`);
    }
    this.storage.clearFaults();
    this.adopt(await this.onRecovery(this, started.host, started.projectionStale));
    this.restartAt = undefined;
    this.note("sim.recovered", { epoch: this.host?.epoch, head: this.host?.ws.log.head(), snapshotSeq: this.host?.ws.recovery.snapshotSeq });
  }

  private recoveryFailed(error: unknown): void {
    if (error instanceof Violation) throw error;
    const message = error instanceof Error ? error.message : String(error);
    this.restartAt = this.clock.now() + 500;
    if (error instanceof LogCorrupted && this.corruption?.inLog) {
      this.probes.reach("corruption failed closed");
      const c = this.corruption;
      this.storage.flipBit(c.path, c.offset, c.bit); // the operator restores the damaged block
      this.corruption = undefined;
      this.note("sim.fail_closed", { message });
      return;
    }
    // An append made while recovering (requeues, disconnects) fails the log with the disk's error as its cause.
    if (error instanceof StorageError || (error instanceof LogFailed && error.cause instanceof StorageError)) {
      this.probes.reach("recovery failed and was retried (F27)");
      this.storage.clearFaults();
      this.note("sim.recovery_io_error", { message });
      return;
    }
    fail("I3", `recovery after a crash failed: ${message}`);
  }

  /** Opens a new host process on the disk as it is now. */
  openHost(): ReturnType<typeof Host.start> {
    return Host.start(this.hostEnv(), ++this.epoch);
  }

  /** Adopts a started host: what it acknowledges from now on is durable. */
  adopt(host: Host): void {
    this.host = host;
    this.hostSince = this.clock.now();
    host.ws.log.onCommit((envelopes) => {
      const last = envelopes.at(-1);
      if (last && host === this.host) this.acked = { seq: last.seq, hash: last.hash };
    });
    if (host.ws.log.head() > this.acked.seq) this.acked = { seq: host.ws.log.head(), hash: host.ws.log.headHash() };
  }

  private hostEnv() {
    return {
      base: this.clock,
      skew: this.skew,
      storage: this.storage,
      random: this.workspaceRandom,
      mirrorRandom: this.mirrorRandom,
      objectStore: this.objectStore,
      jetstream: this.jetstream,
      fsync: this.fsync,
      projection: this.projection,
    };
  }

  /**
   * The liveness phase begins: the core (host, disk, JetStream, object store) heals and every
   * link turns calm; paused processes resume and dead runners come back.
   */
  heal(): void {
    for (const link of this.links) {
      link.profile = calmLink();
      link.heal();
    }
    this.storage.clearFaults();
    this.storage.capacityBytes = Number.POSITIVE_INFINITY;
    this.recoveryFault = false;
    this.storage.disarm();
    this.crashLoop = 0;
    this.objectStore.heal();
    this.jetstream.clearFaults();
    if (this.jetstreamDown) {
      this.jetstreamDown.timer.cancel();
      this.jetstreamDown.restart();
    }
    this.host?.clock.unpause();
    if (!this.host) this.restartAt = Math.min(this.restartAt ?? 0, this.clock.now());
    for (const r of this.runners) {
      r.unpause();
      r.restart();
    }
  }

  // ---- time -----------------------------------------------------------------------------------

  /**
   * Runs the world for `ms` of simulated time as a discrete-event loop: fire the next due timers,
   * let every promise they started settle, repeat. Nothing here waits on real time.
   */
  async advance(ms: number): Promise<void> {
    const target = this.clock.now() + ms;
    for (;;) {
      await settle();
      await this.supervise();
      const next = this.clock.nextDeadline();
      if (next === undefined || next > target) break;
      // Timers due within one tick fire together, then their promise work runs: an OS scheduler
      // tick. Settling after every distinct millisecond instead costs twice the run time.
      this.clock.advanceTo(Math.min(target, Math.ceil(next / TICK_MS) * TICK_MS));
    }
    this.clock.advanceTo(target);
    await settle();
  }
}

/** Lets every queued microtask (and the chains they start) run: the in-memory world has no real I/O. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
