import { openLog, type AppendInput, type Clock, type Envelope, type EventLog, type FsyncPolicy, type Random, type Storage, type Timer, type VerifiedLog } from "@atelier/events";
import { atelierCatalogue, entities, foldInto, snapshotsOf, timersOf, worldOf, type ActorSnapshot, type TimerSpec } from "../machines/index.ts";
import { stateString } from "../machines/world.ts";
import { CommandRejected } from "./errors.ts";
import { drain, reactor } from "./reactions.ts";
import { loadSnapshot, writeSnapshot } from "./snapshots.ts";
import { Tx, type PostEffect } from "./tx.ts";

export interface EngineOptions {
  readonly workspace: string;
  readonly storage: Storage;
  readonly clock: Clock;
  readonly random?: Random | undefined;
  readonly fsync: FsyncPolicy;
  /** Write a snapshot after this many committed events (default 1,000). */
  readonly snapshotEvery: number;
  /** Minimum spacing of idle-timer touches caused by activity (ms). */
  readonly touchGranularityMs: number;
  /** What a restore just verified of the log (`LogOptions.verified`). */
  readonly verifiedLog?: VerifiedLog | undefined;
  /** `LogOptions.giveWay`. */
  readonly giveWay?: (() => Promise<void>) | undefined;
}

/** What one committed transaction did, in seq order: its envelopes and its post-commit effects. */
export interface Committed {
  readonly envelopes: readonly Envelope[];
  readonly effects: readonly PostEffect[];
}

/** What may follow `workspace.hibernated`: a transaction that wakes the workspace (a resume, or a prompt) or ends it. */
const LEAVES_HIBERNATION = new Set(["workspace.resume_requested", "workspace.terminate_requested"]);

/**
 * Nothing follows `workspace.terminated`, and nothing but a wake or a termination request follows
 * `workspace.hibernated`, where its archive ends (ADR 0014).
 */
const refuseWhileStopped = (state: "hibernated" | "terminated", tx: Tx): void => {
  if (state === "terminated") throw new CommandRejected("refused", "workspace is terminated: nothing more is recorded", entities.workspace, state);
  if (!tx.inputs.some((input) => LEAVES_HIBERNATION.has(input.type))) {
    throw new CommandRejected("refused", "workspace is hibernated: only a prompt or a resume may wake it (or a termination end it)", entities.workspace, state);
  }
};

/** A command waiting for its batch to be durable. */
interface Pending {
  readonly tx: Tx;
  readonly value: unknown;
  resolve(result: { value: unknown; envelopes: readonly Envelope[] }): void;
  reject(error: unknown): void;
}

/** How the engine came up: from which snapshot, and how many logged events it replayed after it. */
export interface RecoveryReport {
  readonly snapshotSeq: number;
  readonly replayed: number;
  readonly head: number;
}

/**
 * The write path of DESIGN.md: command → validate → transition → append → commit → effects.
 * `working` runs ahead of the log so that commands issued back to back see each other (and the
 * log can group-commit them); `committed` only ever holds durable state.
 */
export class Engine {
  readonly working: Map<string, ActorSnapshot>;
  readonly committed: Map<string, ActorSnapshot>;
  private committedSeq: number;
  private committedHash: string;
  private sinceSnapshot = 0;
  private snapshotChain: Promise<void> = Promise.resolve();
  /** The snapshot write waiting for the one in flight, if any. */
  private queuedSnapshot: Promise<void> | undefined;
  private readonly armed = new Map<string, Map<string, Timer>>();
  private readonly listeners = new Set<(c: Committed) => void>();
  private readonly failureListeners = new Set<(error: Error) => void>();
  private failure: Error | undefined;
  private closed = false;
  private inflight = 0;
  private batch: Pending[] = [];
  /** Settles once the newest append so far is committed or has failed. */
  private lastFlush: Promise<void> = Promise.resolve();
  private idleWaiters: Array<() => void> = [];

  private constructor(
    readonly log: EventLog,
    readonly dir: string,
    readonly options: EngineOptions,
    actors: Map<string, ActorSnapshot>,
    readonly recovery: RecoveryReport,
  ) {
    this.working = actors;
    this.committed = new Map(actors);
    this.committedSeq = log.head();
    this.committedHash = log.headHash();
  }

  /** Opens the log, loads the newest valid snapshot, replays the tail with effects off, re-arms timers. */
  static async open(dir: string, options: EngineOptions): Promise<Engine> {
    const log = await openLog(dir, {
      workspace: options.workspace,
      catalogue: atelierCatalogue,
      fsync: options.fsync,
      clock: options.clock,
      storage: options.storage,
      ...(options.random ? { random: options.random } : {}),
      ...(options.verifiedLog ? { verified: options.verifiedLog } : {}),
      ...(options.giveWay ? { giveWay: options.giveWay } : {}),
    });
    try {
      const snapshot = loadSnapshot(options.storage, dir, log);
      const actors = snapshot ? snapshotsOf(snapshot.world) : new Map<string, ActorSnapshot>();
      const from = snapshot?.world.seq ?? 0;
      const seq = foldInto(actors, log.read({ from: from + 1 }), from);
      const engine = new Engine(log, dir, options, actors, { snapshotSeq: from, replayed: seq - from, head: log.head() });
      engine.rearmAll();
      return engine;
    } catch (error) {
      await log.close();
      throw error;
    }
  }

  get head(): number {
    return this.committedSeq;
  }

  get now(): number {
    return this.options.clock.now();
  }

  /** Called after each commit, in seq order, with its envelopes and effects. */
  onCommitted(listener: (c: Committed) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Runs a command. `body` applies events to a transaction (throwing CommandRejected to refuse);
   * then dispatch is settled, everything is appended in one group, and the promise resolves with
   * `body`'s value once durable. A refused command, or one that changes nothing, writes nothing;
   * it is still answered only once every write it could have read is durable, so no answer
   * (a grant, a "busy", a duplicate) ever rests on state a failed append takes back.
   */
  run<T>(body: (tx: Tx) => T): Promise<{ value: T; envelopes: readonly Envelope[] }> {
    if (this.closed || this.failure) {
      return Promise.reject(this.failure ?? new CommandRejected("unavailable", "workspace is closed"));
    }
    const tx = new Tx(this.now, this.working, atelierCatalogue, reactor);
    const stopped = this.stopped(this.working);
    let value: T;
    try {
      value = body(tx);
      drain(tx, this.options.touchGranularityMs);
      if (stopped !== undefined && tx.inputs.length > 0) refuseWhileStopped(stopped, tx);
    } catch (error) {
      return Promise.reject(error);
    }
    if (tx.inputs.length === 0 && this.inflight === 0) return Promise.resolve({ value, envelopes: [] });
    for (const [entity, snap] of tx.overlay) this.working.set(entity, snap);
    this.inflight++;
    return new Promise((resolve, reject) => {
      this.batch.push({ tx, value, resolve, reject } as Pending);
      if (this.batch.length === 1) queueMicrotask(() => this.flush());
    });
  }

  /** `hibernated` or `terminated` when the workspace is in one of them: it records nothing, or only a wake, and arms no timers. */
  private stopped(actors: ReadonlyMap<string, ActorSnapshot>): "hibernated" | "terminated" | undefined {
    const workspace = actors.get(entities.workspace);
    const state = workspace && stateString(workspace.value);
    return state === "hibernated" || state === "terminated" ? state : undefined;
  }

  /**
   * Commands issued in the same tick go to the log as one append (one commit group): the log's
   * per-group work, the commit bookkeeping and the timer re-arming are paid once per batch, and a
   * lock acquired and released within a batch never arms a lease timer at all. A batch of
   * commands that wrote nothing waits for the appends before it.
   */
  private flush(): void {
    const batch = this.batch;
    this.batch = [];
    const inputs: AppendInput[] = [];
    for (const { tx } of batch) for (const input of tx.inputs) inputs.push(input);
    const durable =
      inputs.length > 0
        ? this.log.append(inputs)
        : this.lastFlush.then(() => {
            if (this.failure) throw this.failure;
            return [];
          });
    this.lastFlush = durable.then(
      (envelopes) => this.commit(batch, envelopes),
      (error: unknown) => this.abort(batch, error),
    );
  }

  private commit(batch: readonly Pending[], envelopes: readonly Envelope[]): void {
    if (envelopes.length > 0) {
      const touched = new Set<string>();
      const wasStopped = this.stopped(this.committed);
      for (const { tx } of batch) for (const [entity, snap] of tx.overlay) (this.committed.set(entity, snap), touched.add(entity));
      const last = envelopes.at(-1)!;
      this.committedSeq = last.seq;
      this.committedHash = last.hash;
      if (this.stopped(this.committed) !== wasStopped) this.rearmAll();
      else for (const entity of touched) this.rearm(entity);
      this.sinceSnapshot += envelopes.length;
      if (this.sinceSnapshot >= this.options.snapshotEvery) void this.snapshot().catch(() => undefined);
    }
    let offset = 0;
    for (const { tx, value, resolve } of batch) {
      const own = tx.inputs.length === 0 ? [] : envelopes.slice(offset, (offset += tx.inputs.length));
      if (own.length > 0) for (const listener of this.listeners) listener({ envelopes: own, effects: tx.effects });
      resolve({ value, envelopes: own });
    }
    this.inflight -= batch.length;
    if (this.inflight === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  /** Writers get the log's error; commands that only read get told their answer did not hold. */
  private abort(batch: readonly Pending[], error: unknown): void {
    this.fail(error instanceof Error ? error : new Error(String(error)));
    const unheld = new CommandRejected("unavailable", `the state this answer read was not made durable: ${this.failure!.message}`);
    for (const { tx, reject } of batch) reject(tx.inputs.length > 0 ? error : unheld);
  }

  /** The log failed: drop the optimistic state; the workspace must be reopened (and recovered). */
  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    this.working.clear();
    for (const [e, s] of this.committed) this.working.set(e, s);
    this.disarmAll();
    this.inflight = 0;
    for (const w of this.idleWaiters.splice(0)) w();
    for (const listener of this.failureListeners) listener(error);
  }

  /** Calls `listener` once, when the log fails (the workspace must then be closed and reopened). */
  onFailed(listener: (error: Error) => void): () => void {
    this.failureListeners.add(listener);
    return () => this.failureListeners.delete(listener);
  }

  get failed(): Error | undefined {
    return this.failure;
  }

  /** Resolves once no append is in flight. */
  settled(): Promise<void> {
    return this.inflight === 0 ? Promise.resolve() : new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Writes a snapshot of the committed state, serialised with any other snapshot write; resolves
   * once one at least as new as the state now is stored. A write that has not started yet is
   * shared, and takes the state when it starts: appends faster than the disk writes snapshots
   * queue at most one, not one world per thousand events.
   */
  snapshot(): Promise<void> {
    this.sinceSnapshot = 0;
    if (this.queuedSnapshot) return this.queuedSnapshot;
    const write = () => {
      this.queuedSnapshot = undefined;
      const world = worldOf(this.committedSeq, this.committed);
      return writeSnapshot(this.options.storage, this.dir, { format: 1, workspace: this.options.workspace, hash: this.committedHash, world });
    };
    this.snapshotChain = this.snapshotChain.then(write, write);
    this.queuedSnapshot = this.snapshotChain;
    return this.snapshotChain;
  }

  /**
   * Arms every committed deadline, or none while the workspace is hibernated or terminated:
   * nothing but a wake may follow `workspace.hibernated`, so its timers wait for the wake, which
   * re-arms each where it was (one that came due meanwhile fires at once), as a restore from the
   * archive does; and nothing follows `workspace.terminated`.
   */
  private rearmAll(): void {
    if (this.stopped(this.committed) !== undefined) this.disarmAll();
    else for (const entity of this.committed.keys()) this.rearm(entity);
  }

  /** Keeps exactly the timers the committed snapshot of `entity` asks for (same keys, same deadlines). */
  private rearm(entity: string): void {
    const snap = this.committed.get(entity);
    const wanted = snap ? timersOf(entity, snap) : [];
    const current = this.armed.get(entity) ?? new Map<string, Timer>();
    const keys = new Set(wanted.map((t) => t.key));
    for (const [key, timer] of current) if (!keys.has(key)) (timer.cancel(), current.delete(key));
    for (const spec of wanted) if (!current.has(spec.key)) current.set(spec.key, this.arm(spec, current));
    if (current.size > 0) this.armed.set(entity, current);
    else this.armed.delete(entity);
  }

  private arm(spec: TimerSpec, bucket: Map<string, Timer>): Timer {
    return this.options.clock.setTimer(spec.at - this.now, () => {
      bucket.delete(spec.key);
      if (this.closed || this.failure) return;
      // The machine re-checks the deadline: a timer made stale by a later event writes nothing.
      void this.run((tx) => tx.tryApply(spec.entity, spec.event(tx.now))).catch(() => undefined);
    });
  }

  /** Deadlines currently armed, for tests and the simulator. */
  armedTimers(): { key: string; entity: string }[] {
    return [...this.armed].flatMap(([entity, m]) => [...m.keys()].map((key) => ({ key, entity })));
  }

  private disarmAll(): void {
    for (const m of this.armed.values()) for (const t of m.values()) t.cancel();
    this.armed.clear();
  }

  /** Waits for appends in flight, writes a final snapshot, and releases the log. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.settled();
    if (!this.failure && this.committedSeq > 0) await this.snapshot().catch(() => undefined);
    this.closed = true;
    this.disarmAll();
    await this.log.close();
  }
}
