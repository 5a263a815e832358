import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import { LogFailed, nodeStorage, systemClock, type Clock, type FsyncPolicy, type Storage, type StorageLock } from "@atelier/events";
import { DEFAULT_MAX_QUEUE_DEPTH, type AgentSpec, type EnqueueSpec } from "@atelier/actors";
import { type RebuildReason, workspaceStatus } from "@atelier/projections";
import { archiveHost, gatewayLockPath, removeWipeLeftovers, restoreHost, type HibernationContext } from "../archive/hibernation.ts";
import { archiveSettings, type ArchiveSettings } from "../archive/settings.ts";
import type { WorkspaceRow } from "../catalog/workspaces.ts";
import { RunnerTokens } from "../auth/runner-tokens.ts";
import { TokenStore } from "../auth/tokens.ts";
import { openCatalog, type CatalogDb } from "../catalog/catalog.ts";
import { WorkspaceCatalog } from "../catalog/workspaces.ts";
import { ApiError, notFound } from "../http/errors.ts";
import { newManifest, readManifest, workspaceDir, writeManifest } from "./folder.ts";
import { type HostOptions, WorkspaceHost } from "./host.ts";
import { DEFAULT_LIMITS, type Limits } from "./limits.ts";
import { Metrics } from "./metrics.ts";
import { Mirrors } from "./mirrors.ts";

export interface GatewayOptions {
  /** The data folder: `catalog.db` and `workspaces/<id>/`. */
  readonly dataDir: string;
  readonly clock?: Clock;
  readonly fsync?: FsyncPolicy;
  readonly limits?: Partial<Limits>;
  /** Origins allowed to open WebSockets besides the server's own (CSWSH defence). */
  readonly origins?: readonly string[];
  /** Diagnostics (default: stderr). */
  readonly log?: (line: string) => void;
  /** Mirror every workspace's log to this NATS JetStream (comma-separated URLs). */
  readonly nats?: string;
  /** Where hibernated workspaces go (default: the local folder `<data>/archive`, no cloud). */
  readonly archive?: ArchiveSettings;
  /**
   * A terminated workspace is closed once it has had no socket and no request for this long
   * (default 5 minutes); its folder stays and it is opened again when someone reads it.
   */
  readonly closeEndedAfterMs?: number;
  /** The storage driver of the workspaces' logs and snapshots (default: the local file system). */
  readonly storage?: Storage;
}

/** Why a catalogued workspace is not served: the start could not open it, or its log failed and it is not reopened yet. */
export interface Unavailable {
  readonly reason: string;
  readonly since: "start" | "log-failure";
}

/** An open socket whose credentials are re-checked when tokens change or expire (I18). */
export interface Session {
  /** Whether the credentials it was opened with still hold. */
  stillValid(): boolean;
  /** Ends the session at once with a close code and reason: nothing more is delivered to it. */
  end(code: number, reason: string): void;
}

export interface CreateWorkspace {
  readonly name: string;
  readonly agents: readonly AgentSpec[];
  readonly demo?: boolean;
  readonly id?: string;
}

/** Why a workspace's read models were replayed on open, as the server log says it. */
const REBUILD_REASONS: Record<RebuildReason, string> = {
  missing: "their file was missing",
  schema: "their schema changed",
  projectors: "their projectors changed",
  "ahead-of-log": "they were ahead of the log",
  "diverged-from-log": "they diverged from the log",
  damaged: "their file was damaged",
};

const CLOSE_ENDED_AFTER_MS = 5 * 60_000;

/**
 * A workspace whose log failed is reopened after 1 s, then after twice as long each time the
 * reopen fails or the log fails again soon after it (a disk still full), up to a minute.
 */
const REOPEN_FIRST_MS = 1_000;
const REOPEN_MAX_MS = 60_000;

const newWorkspaceId = (): string => `ws_${randomBytes(8).toString("hex")}`;

/**
 * The gateway's state: the catalogue (tokens, workspaces, runner tokens), every open workspace,
 * and the sockets whose authority must be re-checked.
 */
export class Gateway {
  readonly hosts = new Map<string, WorkspaceHost>();
  readonly sessions = new Set<Session>();
  readonly metrics = new Metrics();
  readonly tokens: TokenStore;
  readonly runnerTokens: RunnerTokens;
  readonly workspaces: WorkspaceCatalog;
  readonly limits: Limits;
  readonly clock: Clock;
  readonly archive: ArchiveSettings;
  private poll: NodeJS.Timeout | undefined;
  private mirrors: Mirrors | undefined;
  private lock: StorageLock | undefined;
  /** Hibernation and resume of one workspace never overlap: one promise chain per workspace. */
  private readonly ops = new Map<string, Promise<unknown>>();
  private closing = false;
  /** When each open workspace was last asked for or left by its last socket. */
  private readonly lastUse = new Map<string, number>();
  /** Catalogued workspaces the start has not opened yet: opened in the background, or first when asked for. */
  private readonly unopened = new Map<string, WorkspaceRow>();
  /**
   * Workspaces not served, with why: listed, answered with a 503. One the start could not open is
   * tried again at the next start; one whose log failed is reopened in the background (`recover`).
   */
  readonly unavailable = new Map<string, Unavailable>();
  /** The pending reopen of each workspace whose log failed, and its delay (doubled while it keeps failing). */
  private readonly reopening = new Map<string, { timer: NodeJS.Timeout | undefined; delayMs: number; reopenedAt: number | undefined }>();
  /** Resolves once the start has opened every catalogued workspace (or found it unavailable); see `openInBackground`. */
  ready: Promise<void> = Promise.resolve();

  private constructor(
    readonly options: GatewayOptions,
    readonly catalog: CatalogDb,
  ) {
    this.clock = options.clock ?? systemClock;
    this.tokens = new TokenStore(catalog, this.clock);
    this.runnerTokens = new RunnerTokens(catalog, this.clock);
    this.workspaces = new WorkspaceCatalog(catalog);
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.archive = options.archive ?? archiveSettings(options.dataDir, {}, {});
    this.metrics.gauge("atelier_workspaces_open", "Workspaces open in this gateway", () => [[{}, this.hosts.size]]);
    this.metrics.gauge("atelier_ws_sessions", "Open WebSocket sessions", () => [[{}, this.sessions.size]]);
    this.metrics.gauge("atelier_workspaces_unavailable", "Workspaces not served: the start could not open them, or their log failed", () => [[{}, this.unavailable.size]]);
  }

  /**
   * Opens the catalogue. The workspaces it lists are opened by `openInBackground`, or each when
   * first asked for.
   */
  static async open(options: GatewayOptions): Promise<Gateway> {
    mkdirSync(options.dataDir, { recursive: true });
    const gateway = new Gateway(options, openCatalog(join(options.dataDir, "catalog.db")));
    try {
      if (options.nats) gateway.mirrors = await Mirrors.connect(options.nats);
      try {
        // Tells `atelier hibernate|resume` that a server owns this data folder.
        gateway.lock = nodeStorage().acquireLock(gatewayLockPath(options.dataDir), `atelier gateway pid ${process.pid}`);
      } catch (error) {
        gateway.log(`gateway lock: ${error instanceof Error ? error.message : String(error)}`);
      }
      removeWipeLeftovers(options.dataDir);
      for (const row of gateway.workspaces.list()) gateway.unopened.set(row.id, row);
    } catch (error) {
      await gateway.close();
      throw error;
    }
    // Tokens may be revoked by another process (`atelier token revoke`) or simply expire, and
    // neither announces itself: every session is re-checked each second (a point query per
    // socket, far below the noise). Revocations through this gateway re-check at once.
    gateway.poll = setInterval(() => {
      gateway.revalidate();
      gateway.closeUnusedEnded();
    }, 1000);
    gateway.poll.unref();
    return gateway;
  }

  /**
   * Opens every catalogued workspace, one after the other, after the server has started
   * listening: verifying a log's chain and rebuilding stale read models take seconds per million
   * events, and the server should accept and answer meanwhile (between workspaces, and between
   * a log's segments: `giveWay`). A request for a workspace not reached yet opens it first.
   */
  openInBackground(): Promise<void> {
    this.ready = (async () => {
      for (const id of [...this.unopened.keys()]) await this.opened(id);
    })();
    return this.ready;
  }

  /**
   * Resolves once the start is done with workspace `id`: served, in the archive, or unavailable.
   * One workspace that cannot be opened (a damaged log, a missing disk) no longer keeps the server
   * from starting: it is logged and answered with why, and the others are served.
   */
  opened(id: string): Promise<void> {
    if (!this.unopened.has(id)) return Promise.resolve();
    return this.serialized(id, async () => {
      const row = this.unopened.get(id);
      if (!row || this.closing) return;
      try {
        await this.reopen(row);
      } catch (error) {
        // Stopped by a shutdown (`giveWay`): not damaged, the next start opens it.
        if (this.closing) return;
        const reason = error instanceof Error ? error.message : String(error);
        this.unavailable.set(id, { reason, since: "start" });
        this.log(`workspace ${id}: not served, it could not be opened: ${reason}`);
      } finally {
        // Only now: a request meanwhile must wait for this open, not find the workspace missing.
        this.unopened.delete(id);
      }
    });
  }

  /** Whether the start has yet to open workspace `id`. */
  opening(id: string): boolean {
    return this.unopened.has(id);
  }

  /** How many workspaces the start has yet to open. */
  get stillOpening(): number {
    return this.unopened.size;
  }

  /**
   * Brings a catalogued workspace back after a start or a crash. Its folder, when there, is the
   * truth: it is served, and archived again if its log says hibernated (a crash before the wipe),
   * or woken if a resume was under way. Without a folder, a hibernating/hibernated/resuming
   * workspace is in the archive (the wipe comes only after a verified archive): listed as
   * hibernated, and woken when prompts are held for it. A terminated workspace that was closed
   * for want of use stays closed until someone reads it.
   */
  private async reopen(row: WorkspaceRow, archiveNow = true): Promise<void> {
    const dir = workspaceDir(this.options.dataDir, row.id);
    if (readManifest(dir)) {
      if (row.ended !== null && row.state === "open") return;
      const started = performance.now();
      const host = await WorkspaceHost.open(dir, row.id, row.name, row.demo, this.hostOptions());
      const rebuilt = host.projection.rebuilt;
      if (rebuilt !== undefined) {
        const seconds = ((performance.now() - started) / 1000).toFixed(1);
        this.log(`workspace ${row.id}: read models rebuilt from the log (${REBUILD_REASONS[rebuilt]}): ${host.head} events, ${seconds} s`);
      }
      if (row.state === "resuming" && host.ws.status() === "hibernated") {
        await host.close();
        void this.resume(row.id).catch((e: unknown) => this.log(`resuming ${row.id}: ${String(e)}`));
        return;
      }
      if (row.state !== "open") this.workspaces.setState(row.id, "open", null);
      this.serve(host, archiveNow);
      return;
    }
    // Listed as unavailable with this reason (see `opened`), not left out of the list.
    if (row.state === "open") throw new Error(`its folder ${dir} is missing`);
    if (row.state !== "hibernated") this.workspaces.setState(row.id, "hibernated");
    if (this.workspaces.held(row.id).length > 0) void this.resume(row.id).catch((e: unknown) => this.log(`waking ${row.id}: ${String(e)}`));
  }

  private hibernation(): HibernationContext {
    return {
      dataDir: this.options.dataDir,
      catalog: this.workspaces,
      settings: this.archive,
      clock: this.clock,
      hostOptions: this.hostOptions(),
      log: (line) => this.log(line),
    };
  }

  private serialized<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const next = (this.ops.get(id) ?? Promise.resolve()).then(fn, fn);
    const tail = next.catch(() => undefined);
    this.ops.set(id, tail);
    void tail.then(() => {
      if (this.ops.get(id) === tail) this.ops.delete(id);
    });
    return next;
  }

  /** `hibernated(id)` once the start is done with it: what a request that acts on it must ask. */
  async asleep(id: string): Promise<WorkspaceRow | undefined> {
    await this.opened(id);
    return this.hibernated(id);
  }

  /** The catalogue row of a workspace that is not served because it is (being) hibernated or resumed. */
  hibernated(id: string): WorkspaceRow | undefined {
    if (this.hosts.has(id)) return undefined;
    const row = this.workspaces.get(id);
    return row && row.state !== "open" ? row : undefined;
  }

  /**
   * Archives a workspace whose log reached `hibernated` (by request, or by its idle/lifetime
   * timers): closes it, archives the folder, wipes it, and lists it as hibernated. If archiving
   * fails before the wipe, the folder is intact and served again (a later hibernate request or
   * restart retries). Prompts that arrived meanwhile wake it right after.
   */
  archiveWorkspace(host: WorkspaceHost): Promise<void> {
    return this.serialized(host.id, async () => {
      if (this.closing || this.hosts.get(host.id) !== host || host.ws.status() !== "hibernated") return;
      this.hosts.delete(host.id);
      await this.mirrors?.detach(host.id);
      try {
        const record = await archiveHost(this.hibernation(), host);
        this.metrics.inc("atelier_hibernations_total", "Workspaces archived and wiped", { mirror: record.mirrorError === null ? "ok" : "failed" });
        this.log(`workspace ${host.id}: hibernated to ${record.store} as ${record.archiveId} (seq ${record.head})`);
      } catch (error) {
        this.log(`workspace ${host.id}: hibernation failed, the folder is kept: ${error instanceof Error ? error.message : String(error)}`);
        // Served again without archiving at once (the store may be down): a hibernate request or a restart retries.
        const row = this.workspaces.get(host.id);
        if (row) await this.reopen(row, false).catch((e: unknown) => this.log(`reopening ${host.id}: ${String(e)}`));
        throw error;
      }
      if (this.workspaces.held(host.id).length > 0) void this.resume(host.id).catch((e: unknown) => this.log(`waking ${host.id}: ${String(e)}`));
    });
  }

  /** Restores a hibernated workspace from its archive and serves it again; resolves once it is active. */
  resume(id: string): Promise<WorkspaceHost> {
    return this.serialized(id, async () => {
      const open = this.hosts.get(id);
      if (open) return open;
      if (this.closing) throw new ApiError(503, "unavailable", "the gateway is shutting down");
      if (!this.hibernated(id)) throw notFound(`no workspace ${id}`);
      try {
        const { host, from } = await restoreHost(this.hibernation(), id);
        this.metrics.inc("atelier_resumes_total", "Workspaces restored from their archive", { from });
        this.log(`workspace ${id}: resumed from ${from === "local" ? "its folder" : `the ${from}'s archive`} (seq ${host.head})`);
        this.serve(host);
        return host;
      } catch (error) {
        if (error instanceof ApiError) throw error;
        throw new ApiError(503, "resume_failed", `workspace ${id} could not be resumed and was not opened: ${error instanceof Error ? error.message : String(error)}`);
      }
    });
  }

  /**
   * A prompt for a hibernated workspace (004: queue it, then wake): held in the catalogue, which
   * is durable while the folder is in the archive, and delivered once it has resumed, keyed by
   * its request id (the client's, or one made here), so it is queued exactly once.
   */
  holdPrompt(id: string, agent: string, spec: EnqueueSpec): { requestId: string; duplicate: boolean } {
    const row = this.hibernated(id);
    if (!row) throw notFound(`no workspace ${id}`);
    if (row.archive && row.archive.agents.length > 0 && !row.archive.agents.includes(agent)) throw notFound(`no agent ${agent} in workspace ${id}`);
    const requestId = spec.clientRequestId ?? `held_${randomUUID()}`;
    const held = this.workspaces.held(id);
    // The queue's limit, checked now: once acknowledged, a held prompt must not be refused at the wake.
    const waiting = (row.archive?.queued?.[agent] ?? 0) + held.filter((p) => p.agent === agent).length;
    if (!held.some((p) => p.requestId === requestId) && waiting >= DEFAULT_MAX_QUEUE_DEPTH) {
      throw new ApiError(429, "queue_full", `prompt queue of ${agent} is full (${waiting} queued or held while workspace ${id} is in the archive); retry later`);
    }
    const { duplicate } = this.workspaces.hold(id, {
      requestId,
      agent,
      spec: {
        text: spec.text,
        author: spec.author,
        ...(spec.priority !== undefined ? { priority: spec.priority } : {}),
        ...(spec.interrupt !== undefined ? { interrupt: spec.interrupt } : {}),
      },
      createdAt: this.clock.now(),
    });
    void this.resume(id).catch((e: unknown) => this.log(`waking ${id}: ${String(e)}`));
    return { requestId, duplicate };
  }

  log(line: string): void {
    (this.options.log ?? ((l: string) => process.stderr.write(`${l}\n`)))(line);
  }

  private hostOptions(): HostOptions {
    return {
      clock: this.clock,
      ...(this.options.fsync ? { fsync: this.options.fsync } : {}),
      ...(this.options.storage ? { storage: this.options.storage } : {}),
      onError: (error: unknown) => this.log(`projection: ${error instanceof Error ? error.message : String(error)}`),
      giveWay: () => this.giveWay(),
    };
  }

  /**
   * Awaited by an open between a large log's segments and between a rebuild's transactions:
   * requests are answered meanwhile, and a shutdown stops the open there instead of waiting
   * for it (seconds per million events).
   */
  private giveWay(): Promise<void> {
    if (this.closing) return Promise.reject(new ApiError(503, "unavailable", "the gateway is shutting down"));
    return new Promise<void>((resolve) => setImmediate(resolve));
  }

  private serve(host: WorkspaceHost, archiveNow = true): void {
    this.hosts.set(host.id, host);
    this.lastUse.set(host.id, this.clock.now());
    this.mirrors?.attach(host);
    // Hibernation, however it was asked for (REST, the idle/lifetime timers), ends in this event.
    const off = host.ws.log.onCommit((envelopes) => {
      if (envelopes.some((e) => e.type === "workspace.hibernated")) void this.archiveWorkspace(host).catch(() => undefined);
      if (envelopes.some((e) => e.type === "workspace.terminated")) {
        this.lastUse.set(host.id, this.clock.now());
        this.log(`workspace ${host.id}: terminated`);
      }
    });
    host.onClose(off);
    host.onClose(host.ws.onFailed((error) => void this.recover(host, error)));
    if (archiveNow && host.ws.status() === "hibernated") void this.archiveWorkspace(host).catch(() => undefined);
  }

  /**
   * A workspace whose log failed (a full disk, an I/O error) refuses every command, and its
   * actors' timers are stopped: it is closed, listed unavailable with why, and reopened from its
   * log in the background, which recovers what was durable, until a reopen holds.
   */
  private recover(host: WorkspaceHost, error: Error): Promise<void> {
    return this.serialized(host.id, async () => {
      if (this.closing || this.hosts.get(host.id) !== host) return;
      const last = this.reopening.get(host.id);
      // Failed again soon after a reopen: the cause is still there, so wait longer.
      const again = last?.reopenedAt !== undefined && this.clock.now() - last.reopenedAt < REOPEN_MAX_MS;
      const delayMs = again ? Math.min(last!.delayMs * 2, REOPEN_MAX_MS) : REOPEN_FIRST_MS;
      // Listed and answered as unavailable from now on, not missing while it closes.
      const cause = error instanceof LogFailed ? error.reason : error.message;
      this.unavailable.set(host.id, { reason: `its log failed (${cause}); it is reopened from its log ${delayMs / 1000} s after that`, since: "log-failure" });
      this.hosts.delete(host.id);
      this.lastUse.delete(host.id);
      this.log(`workspace ${host.id}: its log failed, closing it; reopened in ${delayMs / 1000} s: ${cause}`);
      await this.mirrors?.detach(host.id);
      await host.close("the workspace's log failed: reconnect once it is reopened").catch((e: unknown) => this.log(`closing ${host.id}: ${String(e)}`));
      this.scheduleReopen(host.id, delayMs, cause);
    });
  }

  private scheduleReopen(id: string, delayMs: number, cause: string): void {
    const timer = setTimeout(() => void this.reopenFailed(id, delayMs, cause), delayMs);
    timer.unref();
    this.reopening.set(id, { timer, delayMs, reopenedAt: undefined });
  }

  private reopenFailed(id: string, delayMs: number, cause: string): Promise<void> {
    return this.serialized(id, async () => {
      const row = this.workspaces.get(id);
      if (this.closing || !row || this.hosts.has(id)) return;
      try {
        await this.reopen(row);
        this.unavailable.delete(id);
        this.reopening.set(id, { timer: undefined, delayMs, reopenedAt: this.clock.now() });
        this.log(`workspace ${id}: reopened after its log failed`);
      } catch (error) {
        const next = Math.min(delayMs * 2, REOPEN_MAX_MS);
        const why = error instanceof Error ? error.message : String(error);
        this.unavailable.set(id, { reason: `its log failed (${cause}), and reopening it failed (${why}); tried again ${next / 1000} s after that`, since: "log-failure" });
        this.log(`workspace ${id}: reopening after its log failed did not hold, tried again in ${next / 1000} s: ${why}`);
        this.scheduleReopen(id, next, cause);
      }
    });
  }

  /**
   * The workspace `id`, open (a terminated one closed for want of use is opened again); a 409
   * when it is hibernated, a 404 when there is none.
   */
  async host(id: string): Promise<WorkspaceHost> {
    const host = this.hosts.get(id);
    if (host) {
      this.lastUse.set(id, this.clock.now());
      return host;
    }
    if (this.unopened.has(id)) {
      await this.opened(id);
      if (this.closing) throw new ApiError(503, "unavailable", "the gateway is shutting down");
      return this.host(id);
    }
    const unavailable = this.unavailable.get(id);
    if (unavailable !== undefined) {
      const why = unavailable.since === "start" ? "could not be opened when the server started" : "is not served for now";
      throw new ApiError(503, "unavailable", `workspace ${id} ${why}: ${unavailable.reason}`, { since: unavailable.since });
    }
    if (this.workspaces.get(id)?.ended) return this.openEnded(id);
    const row = this.hibernated(id);
    if (row) {
      throw new ApiError(409, "hibernated", `workspace ${id} is ${row.state === "hibernated" ? "hibernated" : row.state}: POST /workspaces/${id}/resume, or send it a prompt, to wake it`, {
        state: row.state,
      });
    }
    throw notFound(`no workspace ${id}`);
  }

  /** Opens a terminated workspace that was closed for want of use, so that it can be read. */
  private openEnded(id: string): Promise<WorkspaceHost> {
    return this.serialized(id, async () => {
      const open = this.hosts.get(id);
      if (open) return open;
      if (this.closing) throw new ApiError(503, "unavailable", "the gateway is shutting down");
      const row = this.workspaces.get(id);
      if (!row?.ended) throw notFound(`no workspace ${id}`);
      const dir = workspaceDir(this.options.dataDir, id);
      if (!readManifest(dir)) throw new ApiError(503, "unavailable", `workspace ${id} is terminated and its folder ${dir} is missing`);
      const host = await WorkspaceHost.open(dir, id, row.name, row.demo, this.hostOptions());
      this.serve(host);
      return host;
    });
  }

  /** Counts a socket on `host` (an unused terminated workspace is closed only without any); returns its detach. */
  attach(host: WorkspaceHost, onHostClose: (reason: string) => void): () => void {
    const detach = host.attachSocket(onHostClose);
    return () => {
      detach();
      this.lastUse.set(host.id, this.clock.now());
    };
  }

  /**
   * Closes every terminated workspace that has had no socket and no request for
   * `closeEndedAfterMs`: nothing changes it any more, so it need not hold memory, threads and
   * file handles. Its list line goes to the catalogue, and a read opens it again.
   */
  closeUnusedEnded(): void {
    for (const host of this.hosts.values()) {
      if (this.unusedEnded(host)) void this.closeEnded(host).catch((e: unknown) => this.log(`closing ${host.id}: ${String(e)}`));
    }
  }

  private unusedEnded(host: WorkspaceHost): boolean {
    const idle = this.options.closeEndedAfterMs ?? CLOSE_ENDED_AFTER_MS;
    const now = this.clock.now();
    return host.ws.status() === "terminated" && host.sockets === 0 && now - (this.lastUse.get(host.id) ?? now) >= idle;
  }

  private closeEnded(host: WorkspaceHost): Promise<void> {
    return this.serialized(host.id, async () => {
      // Checked again: a request or a socket may have come since.
      if (this.closing || this.hosts.get(host.id) !== host || !this.unusedEnded(host)) return;
      const status = workspaceStatus(host.projection);
      this.workspaces.setEnded(host.id, {
        agents: status?.agents ?? 0,
        heldLocks: status?.heldLocks ?? 0,
        lastSeq: host.projection.seq,
        lastActivityAt: status?.lastActivityAt ?? null,
        closedAt: this.clock.now(),
      });
      this.hosts.delete(host.id);
      this.lastUse.delete(host.id);
      await this.mirrors?.detach(host.id);
      await host.close();
      this.log(`workspace ${host.id}: terminated and unused, closed (opened again when read)`);
    });
  }

  /**
   * Creates a workspace folder (manifest, log, projection), registers its agents and issues
   * their runner tokens. The catalogue row is written last: a failure leaves nothing behind.
   */
  async createWorkspace(spec: CreateWorkspace): Promise<{ host: WorkspaceHost; runnerTokens: Record<string, string> }> {
    const id = spec.id ?? newWorkspaceId();
    const dir = workspaceDir(this.options.dataDir, id);
    if (this.hosts.has(id) || existsSync(dir)) throw new Error(`workspace folder ${dir} already exists`);
    const now = this.clock.now();
    let host: WorkspaceHost | undefined;
    try {
      writeManifest(dir, newManifest(id, spec.name, now));
      host = await WorkspaceHost.open(dir, id, spec.name, spec.demo ?? false, this.hostOptions());
      for (const agent of spec.agents) await host.ws.agents.register(agent);
      const runnerTokens = Object.fromEntries(spec.agents.map((a) => [a.agentId, this.runnerTokens.issue(id, a.agentId)]));
      // The workspace's own creation time (its first event), so that the catalogue and its status agree.
      this.workspaces.add({ id, name: spec.name, createdAt: workspaceStatus(host.projection)?.createdAt ?? now, demo: spec.demo ?? false });
      this.log(`workspace ${id}: created (${JSON.stringify(spec.name)}, agents ${spec.agents.map((a) => a.agentId).join(", ")})`);
      this.serve(host);
      return { host, runnerTokens };
    } catch (error) {
      await host?.close().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  }

  /** Ends every session whose token was revoked, rotated or has expired. */
  revalidate(): void {
    for (const session of [...this.sessions]) if (!session.stillValid()) session.end(4401, "token revoked or expired");
  }

  /** Closes every socket, then every workspace (each writes a final snapshot), then the catalogue. */
  async close(): Promise<void> {
    this.closing = true;
    if (this.poll) clearInterval(this.poll);
    for (const { timer } of this.reopening.values()) clearTimeout(timer);
    // The start's opening stops at the next step of the workspace it is on (`giveWay`).
    await this.ready;
    // Let a hibernation or resume under way finish: a half-archived workspace would be redone anyway.
    await Promise.all([...this.ops.values()]);
    for (const session of [...this.sessions]) session.end(1001, "server shutting down");
    await this.mirrors?.stop();
    for (const host of this.hosts.values()) await host.close().catch((e: unknown) => this.log(`closing ${host.id}: ${String(e)}`));
    this.hosts.clear();
    if (this.catalog.open) this.catalog.close();
    this.lock?.release();
  }
}
