import { type AppendInput, type Envelope, isoTimestamp } from "../envelope.ts";
import { sealEnvelope } from "./encode.ts";
import { InvalidEvent, LogClosed, LogFailed } from "../errors.ts";
import type { EventCatalogue } from "../catalogue/catalogue.ts";
import { systemClock, type Clock } from "../services/clock.ts";
import { cryptoRandom } from "../services/crypto-random.ts";
import { randomId, type Random } from "../services/random.ts";
import { nodeStorage } from "../storage/node.ts";
import { joinPath, type AppendFile, type Storage, type StorageLock } from "../storage/storage.ts";
import { parseLine, readLines, type RawLine } from "./reader.ts";
import { INDEX_EVERY, logDir, segmentName, type Segment } from "./segments.ts";
import { scanLogSteps, type ScanResult, type TornTail, type VerifiedLog } from "./verify.ts";
import { SegmentDigest, vouchedLog } from "./vouch.ts";

/** When an append counts as durable. */
export type FsyncPolicy = "always" | "batch" | "none";

export interface LogOptions {
  /** The workspace id every envelope carries. */
  readonly workspace: string;
  /** The definitions appends are validated against. */
  readonly catalogue: EventCatalogue;
  /** `always`: one fsync per append call; `batch`: group commit; `none`: written, not synced. */
  readonly fsync?: FsyncPolicy;
  readonly clock?: Clock;
  readonly random?: Random;
  readonly storage?: Storage;
  /** Roll to a new segment once the active one reaches this many bytes (default 64 MiB). */
  readonly segmentBytes?: number;
  /** Who holds the writer lock, shown to a second writer. */
  readonly owner?: string;
  /** Committed envelopes kept in memory for live tails (default 8,192). */
  readonly recentCapacity?: number;
  /**
   * What the caller verified of this log's files moments before (the restore of an archive):
   * lines still byte-identical to it are not checked again; a hint that does not match the files
   * means the whole chain is checked. See `scanLog`.
   */
  readonly verified?: VerifiedLog;
  /**
   * Awaited between segments while the open checks the chain (a million events take ~2 s), so
   * that a server answers meanwhile. Unset, the check runs in one go, as the simulator needs.
   */
  readonly giveWay?: () => Promise<void>;
}

/** What opening found and repaired. */
export interface Recovery {
  readonly truncated: TornTail | undefined;
  /** Lines taken on `LogOptions.verified`'s word instead of checked again. */
  readonly vouched: number;
}

interface PendingGroup {
  readonly envelopes: Envelope[];
  readonly bytes: string;
  resolve(envelopes: Envelope[]): void;
  reject(error: unknown): void;
}

/** Groups written together and made durable by one fsync. */
interface Cohort {
  readonly groups: PendingGroup[];
  /** The bytes written, for the segment's digest once they commit. */
  readonly data: Buffer;
  /** All bytes ASCII: each group's byte length is its string length. */
  readonly ascii: boolean;
  /** Opened a new segment (its directory entry needs a sync too). */
  readonly rolled: boolean;
  /** When (monotonic ms) it went to the pool with no other sync running, else undefined. */
  poolStart?: number;
}

/** Fsyncs running at once: overlapping them keeps a lone append from waiting behind another's. */
const MAX_SYNCS = 4;
/** Average blocking fdatasync time above which a lone cohort syncs in the thread pool too. */
const BLOCKING_SYNC_BUDGET_MS = 0.5;

type CommitListener = (envelopes: readonly Envelope[]) => void;

/**
 * A workspace's append-only, hash-chained JSONL log with a single writer. `append` resolves once
 * its events are durable under the fsync policy; readers only ever see committed events.
 */
export class EventLog {
  private readonly storage: Storage;
  private readonly clock: Clock;
  private readonly random: Random;
  private readonly policy: FsyncPolicy;
  private readonly segmentBytes: number;
  private readonly dir: string;
  private segments: Segment[];
  /** Per segment, sha256 of the bytes checked at open or committed since: what `vouch` hands on. */
  private readonly digests: SegmentDigest[];
  private active: AppendFile | undefined;
  private assignedHead: number;
  private committed: number;
  private lastHash: string;
  private committedHash: string;
  private queue: PendingGroup[] = [];
  private pumpScheduled = false;
  /** Cohorts written whose fsync has not yet finished, in write order. */
  private syncing: Cohort[] = [];
  /** A cohort that rolled the segment is syncing: nothing else starts until it is done. */
  private barrier = false;
  private failure: LogFailed | undefined;
  private closed = false;
  private readonly listeners = new Set<CommitListener>();
  private readonly recent: Envelope[] = [];
  private readonly recentCapacity: number;
  private wakeTails: Array<() => void> = [];
  /** Live tails: `recent` is kept only while one runs (holding envelopes costs old-generation GC). */
  private tails = 0;

  private constructor(
    readonly workspace: string,
    readonly catalogue: EventCatalogue,
    readonly recovery: Recovery,
    private readonly lock: StorageLock,
    options: LogOptions,
    dir: string,
    scanned: { segments: Segment[]; digests?: SegmentDigest[]; head: number; lastHash: string },
  ) {
    this.storage = options.storage ?? nodeStorage();
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? cryptoRandom();
    this.policy = options.fsync ?? "batch";
    this.segmentBytes = options.segmentBytes ?? 64 * 1024 * 1024;
    this.recentCapacity = options.recentCapacity ?? 8192;
    this.dir = dir;
    this.segments = scanned.segments;
    this.digests = scanned.digests ?? [];
    this.assignedHead = scanned.head;
    this.committed = scanned.head;
    this.lastHash = scanned.lastHash;
    this.committedHash = scanned.lastHash;
    const last = this.segments.at(-1);
    if (last) this.active = this.storage.openAppend(last.path);
  }

  /**
   * Opens (creating if needed) the log of the workspace folder `workspaceDir`: takes the writer
   * lock, verifies the whole chain (but for lines `options.verified` vouches for), and truncates a
   * torn final line.
   */
  static async open(workspaceDir: string, options: LogOptions): Promise<EventLog> {
    const storage = options.storage ?? nodeStorage();
    const dir = logDir(workspaceDir);
    storage.ensureDir(dir);
    const lock = storage.acquireLock(joinPath(dir, "writer.lock"), options.owner ?? `atelier pid ${process.pid}`);
    try {
      const steps = scanLogSteps(storage, dir, options.workspace, options.verified, true);
      let step: IteratorResult<void, ScanResult>;
      while (!(step = steps.next()).done) await options.giveWay?.();
      const scanned = step.value;
      if (scanned.torn) {
        const file = storage.openAppend(scanned.torn.file);
        try {
          await file.truncate(scanned.torn.offset);
        } finally {
          file.close();
        }
      }
      // What recovery serves must be durable first: after a kill -9 the file may end in lines that
      // were written but never synced (they survive in the page cache). Building on them unsynced
      // would let a later power loss take back what was acknowledged since.
      // Every segment, not just the last: under fsync "none" an earlier one may be unsynced too.
      for (const segment of scanned.segments) {
        const file = storage.openAppend(segment.path);
        try {
          await file.sync();
        } finally {
          file.close();
        }
      }
      if (scanned.segments.length > 0) await storage.syncDir(dir);
      return new EventLog(options.workspace, options.catalogue, { truncated: scanned.torn, vouched: scanned.vouched }, lock, { ...options, storage }, dir, scanned);
    } catch (error) {
      lock.release();
      throw error;
    }
  }

  /** The last committed seq (0 for an empty log). */
  head(): number {
    return this.committed;
  }

  /** The hash of the last committed event. */
  headHash(): string {
    return this.committedHash;
  }

  /**
   * Validates, sequences and writes `inputs`, resolving with their envelopes once durable.
   * Nothing is written when any input is invalid.
   */
  append(inputs: readonly AppendInput[]): Promise<Envelope[]> {
    if (this.closed) return Promise.reject(new LogClosed());
    if (this.failure) return Promise.reject(this.failure);
    let prepared: { envelopes: Envelope[]; bytes: string };
    try {
      prepared = this.prepare(inputs);
    } catch (error) {
      return Promise.reject(error);
    }
    if (prepared.envelopes.length === 0) return Promise.resolve([]);
    return new Promise<Envelope[]>((resolve, reject) => {
      this.queue.push({ envelopes: prepared.envelopes, bytes: prepared.bytes, resolve, reject });
      if (!this.pumpScheduled) {
        this.pumpScheduled = true;
        // Let appends made in the same tick join this group.
        queueMicrotask(() => this.pump());
      }
    });
  }

  private tsMs = Number.NaN;
  private tsText = "";

  /** The envelope `ts` of now, formatted once per clock millisecond (toISOString is ~0.5 µs). */
  private timestamp(): string {
    const now = this.clock.now();
    if (now !== this.tsMs) {
      this.tsMs = now;
      this.tsText = isoTimestamp(now);
    }
    return this.tsText;
  }

  private prepare(inputs: readonly AppendInput[]): { envelopes: Envelope[]; bytes: string } {
    // Validate all first: nothing is sequenced when any input is bad.
    const payloads = inputs.map((input) => {
      if (typeof input !== "object" || input === null) throw new InvalidEvent("event", "", "expected an object");
      if (typeof input.type !== "string" || input.type === "") throw new InvalidEvent("event", "type", "expected a non-empty string");
      if (typeof input.entity !== "string" || input.entity === "") throw new InvalidEvent(input.type, "entity", "expected a non-empty string");
      return this.catalogue.validate(input.type, input.payload);
    });
    const ts = this.timestamp();
    let seq = this.assignedHead;
    let hash = this.lastHash;
    let bytes = "";
    const envelopes = new Array<Envelope>(inputs.length);
    for (let i = 0; i < inputs.length; i++) {
      const input = inputs[i]!;
      const version = this.catalogue.definition(input.type).version;
      // Keys in canonical order, optional ones only when present, as readers will see them.
      const fields: { -readonly [K in keyof Envelope]?: Envelope[K] } = {
        seq: ++seq,
        ts,
        ws: this.workspace,
        id: randomId(this.random, "ev_"),
        entity: input.entity,
        type: input.type,
      };
      if (version > 1) fields.v = version;
      if (input.agent !== undefined) fields.agent = input.agent;
      fields.payload = payloads[i];
      if (input.from !== undefined) fields.from = input.from;
      if (input.to !== undefined) fields.to = input.to;
      bytes += `${sealEnvelope(fields as Omit<Envelope, "hash">, hash)}\n`;
      hash = fields.hash!;
      envelopes[i] = fields as Envelope;
    }
    this.assignedHead = seq;
    this.lastHash = hash;
    return { envelopes, bytes };
  }

  /**
   * Writes what is queued and starts its fsync without waiting for the ones already running
   * (fdatasync makes durable everything written before the call, so syncs may overlap), up to
   * MAX_SYNCS at once. Cohorts commit strictly in write order: a finished sync commits its cohort
   * and every earlier one. A segment roll is a barrier: it waits for running syncs, and nothing
   * else starts until its file and directory syncs are done.
   */
  private pump(): void {
    this.pumpScheduled = false;
    while (this.queue.length > 0 && !this.failure && this.syncing.length < MAX_SYNCS && !this.barrier) {
      // Resumed when the running syncs finish: the old handle stays open until every fdatasync on it has returned.
      if (this.mustRoll() && (this.syncing.length > 0 || this.pendingSyncs > 0)) return;
      const groups = this.policy === "always" ? this.queue.splice(0, 1) : this.queue.splice(0);
      let cohort: Cohort;
      try {
        cohort = { groups, ...this.write(groups) };
      } catch (error) {
        this.fail(error, groups);
        return;
      }
      if (this.policy === "none") {
        this.commit(cohort);
        continue;
      }
      if (this.syncInline(cohort)) continue;
      // Over budget, the blocking time is no longer measured; a lone pool sync (an upper bound of it) is,
      // so a disk that was slow for a moment gets the inline path back.
      if (this.syncing.length === 0 && this.blockingSyncMs > BLOCKING_SYNC_BUDGET_MS) cohort.poolStart = performance.now(); // clock-ok: see syncInline
      this.syncing.push(cohort);
      if (cohort.rolled) this.barrier = true;
      const file = this.active!;
      // The handle's sync last: it is what fails once the process that opened it has crashed.
      const synced = cohort.rolled ? this.storage.syncDir(this.dir).then(() => file.sync()) : file.sync();
      this.pendingSyncs++;
      synced.then(
        () => {
          this.pendingSyncs--;
          this.synced(cohort);
        },
        (error: unknown) => {
          this.pendingSyncs--;
          this.fail(error, []);
        },
      );
    }
  }

  /** EWMA of blocking fdatasync time in ms; starts optimistic, measured from the first on. */
  private blockingSyncMs = 0;
  /**
   * fdatasync calls not yet returned. A later cohort's sync commits the earlier ones (it covers
   * their bytes), so `syncing` can empty while an earlier call is still in the thread pool: closing
   * the handle then (a roll, the close) failed that call with EBADF, and the log with it.
   */
  private pendingSyncs = 0;
  /** When the last blocking sync ended, and how long it took (monotonic ms; measurement only). */
  private lastInlineEnd = Number.NEGATIVE_INFINITY;
  private lastInlineMs = 0;

  /**
   * A lone cohort (nothing else queued or syncing) on a fast disk syncs on this thread: the
   * thread-pool round trip costs about as much as the fdatasync itself. Under `batch` only while
   * load is light (the loop spent at most a third of the time since the last one blocked), so a
   * busy log keeps overlapping its syncs in the pool. A disk whose syncs average over
   * BLOCKING_SYNC_BUDGET_MS always uses the pool, so the loop never stalls long.
   */
  private syncInline(cohort: Cohort): boolean {
    const file = this.active!;
    if (cohort.rolled || this.syncing.length > 0 || this.queue.length > 0) return false;
    if (!file.syncBlocking || this.blockingSyncMs > BLOCKING_SYNC_BUDGET_MS) return false;
    const started = performance.now(); // clock-ok: chooses how to wait for the disk, never what is written
    if (this.policy === "batch" && started - this.lastInlineEnd < 2 * this.lastInlineMs) return false;
    try {
      file.syncBlocking();
    } catch (error) {
      this.fail(error, cohort.groups);
      return true;
    }
    this.lastInlineEnd = performance.now(); // clock-ok
    this.lastInlineMs = this.lastInlineEnd - started;
    this.observeSync(this.lastInlineMs);
    this.commit(cohort);
    return true;
  }

  private observeSync(ms: number): void {
    this.blockingSyncMs = 0.9 * this.blockingSyncMs + 0.1 * ms;
  }

  private synced(cohort: Cohort): void {
    if (this.failure) return;
    if (cohort.poolStart !== undefined) this.observeSync(performance.now() - cohort.poolStart); // clock-ok
    const upTo = this.syncing.indexOf(cohort);
    for (const done of this.syncing.splice(0, upTo + 1)) {
      if (done.rolled) this.barrier = false;
      this.commit(done);
    }
    this.pump();
  }

  /** Whether the next write has to open a new segment. */
  private mustRoll(): boolean {
    const last = this.segments.at(-1);
    return !last || !this.active || (last.bytes >= this.segmentBytes && last.lastSeq >= last.firstSeq);
  }

  /**
   * Writes groups to the active segment, rolling first when it is full. Returns the bytes, whether
   * it rolled and whether they were all ASCII (then each group's byte length is its string length).
   */
  private write(groups: PendingGroup[]): { data: Buffer; rolled: boolean; ascii: boolean } {
    let rolled = false;
    if (this.mustRoll()) {
      this.active?.close();
      const firstSeq = groups[0]!.envelopes[0]!.seq;
      const name = segmentName(firstSeq);
      const path = joinPath(this.dir, name);
      this.active = this.storage.openAppend(path, { create: true });
      this.segments.push({ name, path, firstSeq, lastSeq: firstSeq - 1, bytes: 0, index: [] });
      this.digests.push(new SegmentDigest(name, this.committedHash));
      rolled = true;
    }
    const text = groups.length === 1 ? groups[0]!.bytes : groups.map((g) => g.bytes).join("");
    const data = Buffer.from(text);
    this.active!.append(data);
    return { data, rolled, ascii: data.length === text.length };
  }

  private commit({ groups, data, ascii }: Cohort): void {
    const segment = this.segments.at(-1)!;
    for (const group of groups) {
      const first = group.envelopes[0]!.seq;
      const lastIndexed = segment.index.at(-1)?.[0];
      if (lastIndexed === undefined || first - lastIndexed >= INDEX_EVERY) segment.index.push([first, segment.bytes]);
      segment.bytes += ascii ? group.bytes.length : Buffer.byteLength(group.bytes);
      segment.lastSeq = group.envelopes.at(-1)!.seq;
      this.committed = segment.lastSeq;
      this.committedHash = group.envelopes.at(-1)!.hash;
      if (this.tails > 0) for (const envelope of group.envelopes) this.remember(envelope);
    }
    const digest = this.digests.at(-1)!;
    digest.update(data);
    digest.lastHash = this.committedHash;
    for (const group of groups) group.resolve(group.envelopes);
    if (this.listeners.size > 0) {
      const envelopes = groups.length === 1 ? groups[0]!.envelopes : groups.flatMap((g) => g.envelopes);
      for (const listener of this.listeners) listener(envelopes);
    }
    const wake = this.wakeTails;
    this.wakeTails = [];
    for (const w of wake) w();
  }

  private remember(envelope: Envelope): void {
    this.recent.push(envelope);
    if (this.recent.length > this.recentCapacity * 2) this.recent.splice(0, this.recent.length - this.recentCapacity);
  }

  private fail(error: unknown, groups: PendingGroup[]): void {
    if (this.failure) return;
    this.failure = new LogFailed(error instanceof Error ? error.message : String(error), error);
    const unsynced = this.syncing.splice(0).flatMap((cohort) => cohort.groups);
    for (const group of [...unsynced, ...groups, ...this.queue.splice(0)]) group.reject(this.failure);
    const wake = this.wakeTails;
    this.wakeTails = [];
    for (const w of wake) w();
  }

  /**
   * Calls `listener` synchronously with the envelopes of each durable flush, in seq order, after
   * their appenders have been resolved. Returns a function that unsubscribes.
   */
  onCommit(listener: CommitListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Committed stored lines with seq in [from, to]. */
  *readRaw(options: { from?: number; to?: number } = {}): Generator<RawLine> {
    yield* readLines(this.storage, this.segments, options.from ?? 1, Math.min(options.to ?? this.committed, this.committed));
  }

  /** Committed envelopes with seq in [from, to], with payloads lifted to their current version. */
  *read(options: { from?: number; to?: number } = {}): Generator<Envelope> {
    for (const { line } of this.readRaw(options)) yield this.upcast(parseLine(line));
  }

  private upcast(envelope: Envelope): Envelope {
    if (!this.catalogue.has(envelope.type)) return envelope;
    const current = this.catalogue.definition(envelope.type).version;
    const stored = envelope.v ?? 1; // version 1 is written without `v`
    if (stored >= current) return envelope;
    return { ...envelope, v: current, payload: this.catalogue.upcast(envelope.type, stored, envelope.payload) };
  }

  /**
   * Every committed envelope from `from` on, then each new one as it commits, until the log
   * closes or the consumer stops. Resuming is just calling it again with the next seq.
   */
  async *tail(options: { from?: number } = {}): AsyncGenerator<Envelope> {
    let next = options.from ?? 1;
    // `recent` stops growing while nobody tails, so it is contiguous only from a restart on.
    if (this.tails++ === 0) this.recent.length = 0;
    try {
      while (!this.closed && !this.failure) {
        if (next <= this.committed) {
          const oldest = this.recent[0]?.seq ?? Number.POSITIVE_INFINITY;
          if (next >= oldest) {
            const batch = this.recent.slice(next - oldest, this.committed - oldest + 1);
            for (const envelope of batch) {
              yield this.upcast(envelope);
              next = envelope.seq + 1;
            }
          } else {
            for (const envelope of this.read({ from: next, to: Math.min(this.committed, oldest - 1) })) {
              yield envelope;
              next = envelope.seq + 1;
            }
          }
          continue;
        }
        await new Promise<void>((resolve) => this.wakeTails.push(resolve));
      }
    } finally {
      this.tails--;
    }
  }

  /**
   * Once closed without a failure, what this log vouches for: every segment's bytes exactly as it
   * checked them when it opened or wrote them since (per segment name, size, sha256, last seq and
   * hash), for an archive of the folder to skip checking the chain again (`LogOptions.verified`'s
   * counterpart). Undefined while open, after a failure, or for a log without segments.
   */
  vouch(): VerifiedLog | undefined {
    if (!this.closed || this.failure) return undefined;
    return vouchedLog(this.workspace, this.segments, this.digests);
  }

  /** Waits for queued appends, then releases the writer lock. */
  async close(): Promise<void> {
    if (this.closed) return;
    while (this.pumpScheduled || this.syncing.length > 0 || this.pendingSyncs > 0 || (this.queue.length > 0 && !this.failure)) {
      await new Promise((r) => setImmediate(r));
    }
    this.closed = true;
    this.active?.close();
    this.active = undefined;
    this.lock.release();
    const wake = this.wakeTails;
    this.wakeTails = [];
    for (const w of wake) w();
  }
}

/** Opens a workspace's log; see EventLog.open. */
export const openLog = (workspaceDir: string, options: LogOptions): Promise<EventLog> => EventLog.open(workspaceDir, options);
