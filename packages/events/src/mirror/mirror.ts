/**
 * The mirror: follows a workspace's log and publishes every committed line to JetStream, in seq
 * order, with a bounded window of publishes in flight. JSONL stays the source of truth; the
 * JetStream subject is kept a prefix of it and catches up after any outage.
 *
 * Each session: connect → ensure the stream → reconcile (read back what JetStream holds for the
 * workspace and check it against the log) → publish from there. Any failure ends the session once
 * its in-flight publishes settle; the next one starts after a jittered backoff and reconciles
 * again, so nothing is re-sent blindly, even past the duplicate window.
 */
import type { NatsConnection } from "@nats-io/transport-node";
import type { EventLog } from "../log/log.ts";
import { systemClock, type Clock } from "../services/clock.ts";
import { cryptoRandom } from "../services/crypto-random.ts";
import type { Random } from "../services/random.ts";
import { nodeStorage } from "../storage/node.ts";
import type { Storage } from "../storage/storage.ts";
import { backoffDelay, type BackoffOptions } from "./backoff.ts";
import { natsConnect, type Ack, type JetStreamConnect, type JetStreamSession } from "./port.ts";
import { SegmentStarts } from "./segment-starts.ts";
import { DEFAULT_DUPLICATE_WINDOW_MS, DEFAULT_STREAM, subjectFor, type StreamOptions } from "./stream.ts";

export interface MirrorOptions {
  /** NATS server URL(s), comma-separated; the mirror owns this connection and closes it on stop. */
  readonly url?: string;
  /** A connection to share instead (it keeps its own reconnect policy; stop leaves it open). */
  readonly connection?: NatsConnection;
  /** Any other JetStream, e.g. MemoryJetStream in the simulator. One of the three is required. */
  readonly jetstream?: JetStreamConnect;
  readonly stream?: StreamOptions;
  /** Publishes in flight at most (default 1,024). */
  readonly window?: number;
  /** How long to wait for a PubAck, a JetStream reply or a connection (default 5 s). */
  readonly timeoutMs?: number;
  readonly backoff?: BackoffOptions;
  /** Times the backoff between sessions. */
  readonly clock?: Clock;
  /** Jitters the backoff. */
  readonly random?: Random;
  /** The log's workspace folder: lets the mirror mark segment starts so a restore splits files alike. */
  readonly workspaceDir?: string;
  readonly storage?: Storage;
}

/** `repairing`: waiting out the duplicate window before re-sending events JetStream lost. */
export type MirrorState = "connecting" | "mirroring" | "retrying" | "repairing" | "diverged" | "stopped";

export interface MirrorStatus {
  readonly workspace: string;
  readonly stream: string;
  readonly subject: string;
  readonly state: MirrorState;
  readonly logHead: number;
  /** The last seq JetStream has acknowledged, with every seq before it. */
  readonly mirroredHead: number;
  /** logHead − mirroredHead. */
  readonly lag: number;
  readonly inFlight: number;
  /** Publishes JetStream acknowledged as duplicates (a retry of something it already held). */
  readonly duplicates: number;
  /** Sessions that reconciled and started publishing; more than one means it reconnected. */
  readonly sessions: number;
  readonly lastError?: string;
}

export interface Mirror {
  status(): MirrorStatus;
  /** Resolves once JetStream holds every event up to `seq`; rejects if the mirror stops first. */
  mirrored(seq: number): Promise<void>;
  /** Lets in-flight publishes settle, then stops (and closes an owned connection). */
  stop(): Promise<void>;
}

/** JetStream holds something the log does not: republishing cannot fix it, a person must. */
export class MirrorDiverged extends Error {
  override readonly name = "MirrorDiverged";
}

/** JetStream remembers ids of events it no longer holds: re-sends would be taken as duplicates. */
class AwaitDuplicateWindow extends Error {}

interface Session {
  readonly js: JetStreamSession;
  next: number;
  inFlight: number;
  /** Acks received beyond the contiguous prefix: seq → stream sequence. */
  readonly acked: Map<number, number>;
  failure: unknown;
  settled: boolean;
  resolve(): void;
  reject(error: unknown): void;
}

interface Waiter {
  readonly seq: number;
  resolve(): void;
  reject(error: unknown): void;
}

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

class LogMirror implements Mirror {
  private readonly workspace: string;
  private readonly streamName: string;
  private readonly window: number;
  private readonly refillAt: number;
  private readonly timeoutMs: number;
  private readonly clock: Clock;
  private readonly random: Random;
  private readonly segments: SegmentStarts | undefined;
  private state: MirrorState = "connecting";
  private confirmed = 0;
  private confirmedStreamSeq = 0;
  private duplicates = 0;
  private sessions = 0;
  private lastError: string | undefined;
  private readonly connect: JetStreamConnect;
  private current: JetStreamSession | undefined;
  private session: Session | undefined;
  private fillQueued = false;
  private stopping = false;
  private wake: (() => void) | undefined;
  private waiters: Waiter[] = [];
  private readonly unsubscribe: () => void;
  private readonly done: Promise<void>;

  constructor(
    private readonly log: EventLog,
    private readonly options: MirrorOptions,
  ) {
    this.workspace = log.workspace;
    subjectFor(this.workspace); // refuse an id that cannot be a subject now, not on first publish
    this.streamName = options.stream?.name ?? DEFAULT_STREAM;
    this.window = Math.max(1, options.window ?? 1024);
    // Refill in batches: reading the log for one line per ack would cost more than the publish.
    this.refillAt = Math.ceil(this.window / 4);
    this.timeoutMs = options.timeoutMs ?? 5000;
    const name = `atelier-mirror ${this.workspace}`;
    if (options.jetstream) this.connect = options.jetstream;
    else if (options.connection) this.connect = natsConnect({ connection: options.connection }, this.timeoutMs, name);
    else if (options.url) this.connect = natsConnect({ url: options.url }, this.timeoutMs, name);
    else throw new Error("startMirror needs a NATS url, a connection or a JetStream");
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? cryptoRandom();
    this.segments = options.workspaceDir ? new SegmentStarts(options.storage ?? nodeStorage(), options.workspaceDir) : undefined;
    this.unsubscribe = log.onCommit(() => this.kick());
    this.done = this.loop();
  }

  status(): MirrorStatus {
    const logHead = this.log.head();
    return {
      workspace: this.workspace,
      stream: this.streamName,
      subject: subjectFor(this.workspace),
      state: this.state,
      logHead,
      mirroredHead: this.confirmed,
      lag: Math.max(0, logHead - this.confirmed),
      inFlight: this.session?.inFlight ?? 0,
      duplicates: this.duplicates,
      sessions: this.sessions,
      ...(this.lastError !== undefined ? { lastError: this.lastError } : {}),
    };
  }

  mirrored(seq: number): Promise<void> {
    if (this.confirmed >= seq) return Promise.resolve();
    if (this.stopping) return Promise.reject(new Error("mirror stopped"));
    return new Promise((resolve, reject) => this.waiters.push({ seq, resolve, reject }));
  }

  async stop(): Promise<void> {
    if (!this.stopping) {
      this.stopping = true;
      this.unsubscribe();
      this.wake?.();
      this.kick();
    }
    await this.done;
    const stopped = new Error("mirror stopped");
    for (const w of this.waiters.splice(0)) w.reject(stopped);
  }

  private async loop(): Promise<void> {
    let attempt = 0;
    while (!this.stopping) {
      try {
        const js = await this.open();
        await js.ensureStream(this.options.stream ?? {});
        await this.reconcile(js);
        this.sessions++;
        attempt = 0;
        this.state = "mirroring";
        this.lastError = undefined;
        await this.run(js);
      } catch (error) {
        if (this.stopping) break;
        this.lastError = messageOf(error);
        if (error instanceof AwaitDuplicateWindow) {
          this.state = "repairing";
          await this.pause(this.options.stream?.duplicateWindowMs ?? DEFAULT_DUPLICATE_WINDOW_MS);
          continue;
        }
        this.state = error instanceof MirrorDiverged ? "diverged" : "retrying";
        await this.pause(backoffDelay(attempt++, this.random, this.options.backoff));
      }
    }
    this.state = "stopped";
    await this.current?.close().catch(() => undefined);
  }

  /** The current session while its connection lives, else a new one. */
  private async open(): Promise<JetStreamSession> {
    if (this.current && !this.current.isClosed()) return this.current;
    this.current = await this.connect();
    return this.current;
  }

  /**
   * Reads the subject's last message back and checks it against the log: the same bytes at the
   * same seq, and exactly `seq` messages on the subject (no gap, no copy). Publishing resumes
   * after it, guarded by its stream sequence. JetStream may hold less than the last session
   * confirmed (a store that lost its tail); the mirror simply re-sends from there.
   */
  private async reconcile(js: JetStreamSession): Promise<void> {
    const head = await js.subjectHead(this.streamName, this.workspace);
    const logHead = this.log.head();
    if (head.seq > logHead) {
      throw new MirrorDiverged(`JetStream holds ${this.workspace} up to seq ${head.seq} but the log ends at ${logHead}: restore the workspace from JetStream, or purge its subject`);
    }
    if (head.seq > 0) {
      const [local] = this.log.readRaw({ from: head.seq, to: head.seq });
      if (local?.line !== head.line) throw new MirrorDiverged(`JetStream's event ${head.seq} of ${this.workspace} differs from the log's`);
    }
    if (head.count !== head.seq) {
      throw new MirrorDiverged(`JetStream holds ${head.count} messages for events 1..${head.seq} of ${this.workspace}: a gap or a copy`);
    }
    this.confirmed = head.seq;
    this.confirmedStreamSeq = head.streamSeq;
  }

  /**
   * Publishes until stopped (resolves) or until a publish fails (rejects), once in-flight
   * publishes settle; or at once when the connection drops.
   */
  private run(js: JetStreamSession): Promise<void> {
    let stopWatching = (): void => undefined;
    return new Promise<void>((resolve, reject) => {
      const s: Session = {
        js,
        next: this.confirmed + 1,
        inFlight: 0,
        acked: new Map(),
        failure: undefined,
        settled: false,
        resolve,
        reject,
      };
      this.session = s;
      // A connection that reconnects by itself drops what it had not sent, then sends what was
      // published while it was down: those could land behind lost ones. So a drop ends the
      // session at once, and the next one reconciles.
      stopWatching = js.onDrop((reason) => {
        s.failure ??= new Error(`NATS connection lost (${reason})`);
        this.settle(s, true);
      });
      this.fill();
    }).finally(() => {
      stopWatching();
      this.session = undefined;
    });
  }

  /** Schedules a fill; commits and acks arrive in bursts, one read of the log serves them all. */
  private kick(): void {
    if (this.fillQueued) return;
    this.fillQueued = true;
    queueMicrotask(() => this.fill());
  }

  private fill(): void {
    this.fillQueued = false;
    const s = this.session;
    if (!s) return;
    if (s.failure !== undefined || this.stopping) return this.settle(s);
    const head = this.log.head();
    const free = this.window - s.inFlight;
    if (s.next > head || free <= 0 || (s.inFlight > 0 && free < this.refillAt)) return;
    // With nothing in flight every earlier publish is acknowledged, so the subject's last stream
    // sequence is known and the first publish can be guarded by it.
    const guard = s.inFlight === 0 ? this.confirmedStreamSeq : undefined;
    const first = s.next;
    for (const { seq, line } of this.log.readRaw({ from: s.next, to: Math.min(head, s.next + free - 1) })) {
      s.inFlight++;
      s.js
        .publish(this.streamName, this.workspace, seq, line, {
          timeoutMs: this.timeoutMs,
          segmentStart: this.segments?.isStart(seq, head) ?? false,
          ...(seq === first && guard !== undefined ? { expectLastSubjectSequence: guard } : {}),
        })
        .then((ack) => (ack.duplicate ? this.checkDuplicate(s, seq, line, ack) : ack))
        .then(
          (ack) => this.acked(s, seq, ack),
          (error: unknown) => this.failed(s, error),
        );
      s.next = seq + 1;
    }
  }

  /**
   * A duplicate ack only says JetStream once saw this message id. Check that the message it
   * points at is this very event: a purged subject, or another writer's event under the same
   * id, must not count as mirrored. The re-send waits until JetStream has forgotten the id.
   */
  private async checkDuplicate(s: Session, seq: number, line: string, ack: Ack): Promise<Ack> {
    this.duplicates++;
    const stored = await s.js.storedAt(this.streamName, ack.seq);
    if (stored?.subject !== subjectFor(this.workspace) || stored.line !== line) {
      throw new AwaitDuplicateWindow(`JetStream took event ${seq} of ${this.workspace} as a duplicate of message ${ack.seq}, which does not hold it`);
    }
    return ack;
  }

  private acked(s: Session, seq: number, ack: Ack): void {
    s.inFlight--;
    if (s.failure === undefined) {
      s.acked.set(seq, ack.seq);
      for (let streamSeq = s.acked.get(this.confirmed + 1); streamSeq !== undefined; streamSeq = s.acked.get(this.confirmed + 1)) {
        s.acked.delete(this.confirmed + 1);
        this.confirmed++;
        this.confirmedStreamSeq = streamSeq;
      }
      if (this.waiters.length > 0) this.release();
    }
    this.kick();
  }

  private failed(s: Session, error: unknown): void {
    s.inFlight--;
    // Later acks may still arrive, but a gap may sit before them: the next reconcile decides.
    s.failure ??= error;
    this.settle(s);
  }

  /** Ends the session once nothing is in flight, or now when `force`d (late acks are then ignored). */
  private settle(s: Session, force = false): void {
    if (s.settled || (s.inFlight > 0 && !force)) return;
    s.settled = true;
    if (s.failure !== undefined) s.reject(s.failure);
    else s.resolve();
  }

  private release(): void {
    const ready = this.waiters.filter((w) => w.seq <= this.confirmed);
    if (ready.length === 0) return;
    this.waiters = this.waiters.filter((w) => w.seq > this.confirmed);
    for (const w of ready) w.resolve();
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = this.clock.setTimer(ms, () => this.wake?.());
      this.wake = () => {
        timer.cancel();
        this.wake = undefined;
        resolve();
      };
    });
  }
}

/**
 * Starts mirroring `log` into JetStream. Returns at once; connecting, reconciling and retrying
 * happen in the background and show in `status()`. Stop the mirror before closing the log.
 */
export const startMirror = (log: EventLog, options: MirrorOptions): Mirror => new LogMirror(log, options);
