import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { nodeStorage, systemClock, type Clock, type FsyncPolicy, type Storage, type StorageLock } from "@atelier/events";
import type { AgentSpec, EnqueueSpec } from "@atelier/actors";
import { workspaceStatus } from "@atelier/projections";
import { gatewayLockPath, removeLeftovers, type HibernationContext } from "../archive/hibernation.ts";
import { archiveSettings, type ArchiveSettings } from "../archive/settings.ts";
import type { WorkspaceRow } from "../catalog/workspaces.ts";
import { RunnerTokens } from "../auth/runner-tokens.ts";
import { TokenStore } from "../auth/tokens.ts";
import { openCatalog, type CatalogDb } from "../catalog/catalog.ts";
import { WorkspaceCatalog } from "../catalog/workspaces.ts";
import { ApiError, notFound } from "../http/errors.ts";
import { EndedWorkspaces } from "./ended.ts";
import { newManifest, workspaceDir, writeManifest } from "./folder.ts";
import { Hibernations } from "./hibernations.ts";
import { type HostOptions, WorkspaceHost } from "./host.ts";
import { DEFAULT_LIMITS, type Limits } from "./limits.ts";
import { Metrics } from "./metrics.ts";
import { Mirrors } from "./mirrors.ts";
import { LogFailureRecovery } from "./recovery.ts";
import { Reopening } from "./reopen.ts";
import { ServedWorkspaces, shuttingDown, type Unavailable } from "./served.ts";

export type { Unavailable } from "./served.ts";

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

const newWorkspaceId = (): string => `ws_${randomBytes(8).toString("hex")}`;

/**
 * The gateway's state: the catalogue (tokens, workspaces, runner tokens), every open workspace,
 * and the sockets whose authority must be re-checked.
 */
export class Gateway {
  readonly sessions = new Set<Session>();
  readonly metrics = new Metrics();
  readonly tokens: TokenStore;
  readonly runnerTokens: RunnerTokens;
  readonly workspaces: WorkspaceCatalog;
  readonly limits: Limits;
  readonly clock: Clock;
  readonly archive: ArchiveSettings;
  private readonly served: ServedWorkspaces;
  private readonly hibernations: Hibernations;
  private readonly ended: EndedWorkspaces;
  private readonly recovery: LogFailureRecovery;
  private readonly reopening: Reopening;
  private poll: NodeJS.Timeout | undefined;
  private lock: StorageLock | undefined;

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
    const served = (this.served = new ServedWorkspaces(this.clock));
    const log = (line: string) => this.log(line);
    const common = { served, catalog: this.workspaces, clock: this.clock, log };
    const open = (dir: string, row: WorkspaceRow) => WorkspaceHost.open(dir, row.id, row.name, row.demo, this.hostOptions());
    this.hibernations = new Hibernations({
      ...common,
      metrics: this.metrics,
      archive: () => this.hibernation(),
      reopen: (row) => this.reopening.reopen(row, false),
      serve: (host) => this.serve(host),
    });
    this.reopening = new Reopening({ ...common, dataDir: options.dataDir, hibernations: this.hibernations, open, serve: (host, archiveNow) => this.serve(host, archiveNow) });
    this.ended = new EndedWorkspaces({
      ...common,
      dataDir: options.dataDir,
      closeAfterMs: options.closeEndedAfterMs,
      open: async (dir, row) => this.serve(await open(dir, row)),
    });
    this.recovery = new LogFailureRecovery({ ...common, reopen: (row) => this.reopening.reopen(row) });
    this.metrics.gauge("atelier_workspaces_open", "Workspaces open in this gateway", () => [[{}, served.hosts.size]]);
    this.metrics.gauge("atelier_ws_sessions", "Open WebSocket sessions", () => [[{}, this.sessions.size]]);
    this.metrics.gauge("atelier_workspaces_unavailable", "Workspaces not served: the start could not open them, or their log failed", () => [[{}, served.unavailable.size]]);
  }

  /**
   * Opens the catalogue. The workspaces it lists are opened by `openInBackground`, or each when
   * first asked for.
   */
  static async open(options: GatewayOptions): Promise<Gateway> {
    mkdirSync(options.dataDir, { recursive: true });
    const gateway = new Gateway(options, openCatalog(join(options.dataDir, "catalog.db")));
    try {
      if (options.nats) gateway.served.mirrors = await Mirrors.connect(options.nats);
      try {
        // Tells `atelier hibernate|resume` that a server owns this data folder.
        gateway.lock = nodeStorage().acquireLock(gatewayLockPath(options.dataDir), `atelier gateway pid ${process.pid}`);
      } catch (error) {
        gateway.log(`gateway lock: ${error instanceof Error ? error.message : String(error)}`);
      }
      removeLeftovers(options.dataDir, { restores: gateway.lock !== undefined });
      gateway.reopening.expect(gateway.workspaces.list());
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

  /** Every workspace served now, by id. */
  get hosts(): ReadonlyMap<string, WorkspaceHost> {
    return this.served.hosts;
  }

  /** Catalogued workspaces not served, with why (listed, and answered with a 503). */
  get unavailable(): ReadonlyMap<string, Unavailable> {
    return this.served.unavailable;
  }

  /**
   * Opens every catalogued workspace, one after the other, after the server has started
   * listening: verifying a log's chain and rebuilding stale read models take seconds per million
   * events, and the server should accept and answer meanwhile (between workspaces, and between
   * a log's segments: `giveWay`). A request for a workspace not reached yet opens it first.
   */
  openInBackground(): Promise<void> {
    return this.reopening.openInBackground();
  }

  /** Resolves once the start has opened every catalogued workspace (or found it unavailable). */
  get ready(): Promise<void> {
    return this.reopening.ready;
  }

  /** Resolves once the start is done with workspace `id`: served, in the archive, or unavailable. */
  opened(id: string): Promise<void> {
    return this.reopening.opened(id);
  }

  /** Whether the start has yet to open workspace `id`. */
  opening(id: string): boolean {
    return this.reopening.opening(id);
  }

  /** How many workspaces the start has yet to open. */
  get stillOpening(): number {
    return this.reopening.stillOpening;
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

  /** `hibernated(id)` once the start is done with it: what a request that acts on it must ask. */
  async asleep(id: string): Promise<WorkspaceRow | undefined> {
    await this.opened(id);
    return this.hibernated(id);
  }

  /** The catalogue row of a workspace that is not served because it is (being) hibernated or resumed. */
  hibernated(id: string): WorkspaceRow | undefined {
    return this.hibernations.hibernated(id);
  }

  /** Archives a workspace whose log reached `hibernated`; see `Hibernations.archive`. */
  archiveWorkspace(host: WorkspaceHost): Promise<void> {
    return this.hibernations.archive(host);
  }

  /** Restores a hibernated workspace from its archive and serves it again; resolves once it is active. */
  resume(id: string): Promise<WorkspaceHost> {
    return this.hibernations.resume(id);
  }

  /** Holds a prompt for a hibernated workspace and wakes it; see `Hibernations.holdPrompt`. */
  holdPrompt(id: string, agent: string, spec: EnqueueSpec): { requestId: string; duplicate: boolean } {
    return this.hibernations.holdPrompt(id, agent, spec);
  }

  log(line: string): void {
    (this.options.log ?? ((l: string) => process.stderr.write(`${l}\n`)))(line);
  }

  private hostOptions(): HostOptions {
    return {
      clock: this.clock,
      ...(this.options.fsync ? { fsync: this.options.fsync } : {}),
      ...(this.options.storage ? { storage: this.options.storage } : {}),
      log: (line: string) => this.log(line),
      giveWay: () => this.giveWay(),
    };
  }

  /**
   * Awaited by an open between a large log's segments and between a rebuild's transactions:
   * requests are answered meanwhile, and a shutdown stops the open there instead of waiting
   * for it (seconds per million events).
   */
  private giveWay(): Promise<void> {
    if (this.served.closing) return Promise.reject(shuttingDown());
    return new Promise<void>((resolve) => setImmediate(resolve));
  }

  /** Serves `host`, and follows its log: a hibernation is archived, a failure recovered from. */
  private serve(host: WorkspaceHost, archiveNow = true): WorkspaceHost {
    this.served.add(host);
    // Hibernation, however it was asked for (REST, the idle/lifetime timers), ends in this event.
    const off = host.ws.log.onCommit((envelopes) => {
      if (envelopes.some((e) => e.type === "workspace.hibernated")) void this.archiveWorkspace(host).catch(() => undefined);
      if (envelopes.some((e) => e.type === "workspace.terminated")) {
        this.served.touch(host.id);
        this.log(`workspace ${host.id}: terminated`);
      }
    });
    host.onClose(off);
    host.onClose(host.ws.onFailed((error) => void this.recovery.recover(host, error)));
    this.hibernations.deliverHeld(host);
    if (archiveNow && host.ws.status() === "hibernated") void this.archiveWorkspace(host).catch(() => undefined);
    return host;
  }

  /**
   * The workspace `id`, open (a terminated one closed for want of use is opened again); a 409
   * when it is hibernated, a 404 when there is none.
   */
  async host(id: string): Promise<WorkspaceHost> {
    const host = this.served.hosts.get(id);
    if (host) {
      this.served.touch(id);
      // Read models being rebuilt after damage answer once they are whole again.
      await host.projection.ready;
      return host;
    }
    if (this.reopening.opening(id)) {
      await this.opened(id);
      this.served.assertOpen();
      return this.host(id);
    }
    const unavailable = this.served.unavailable.get(id);
    if (unavailable !== undefined) {
      const why = unavailable.since === "start" ? "could not be opened when the server started" : "is not served for now";
      throw new ApiError(503, "unavailable", `workspace ${id} ${why}: ${unavailable.reason}`, { since: unavailable.since });
    }
    if (this.workspaces.get(id)?.ended) return this.ended.open(id);
    const row = this.hibernated(id);
    if (row) {
      throw new ApiError(409, "hibernated", `workspace ${id} is ${row.state === "hibernated" ? "hibernated" : row.state}: POST /workspaces/${id}/resume, or send it a prompt, to wake it`, {
        state: row.state,
      });
    }
    throw notFound(`no workspace ${id}`);
  }

  /** Counts a socket on `host` (an unused terminated workspace is closed only without any); returns its detach. */
  attach(host: WorkspaceHost, onHostClose: (reason: string) => void): () => void {
    const detach = host.attachSocket(onHostClose);
    return () => {
      detach();
      this.served.touch(host.id);
    };
  }

  /** Closes every terminated workspace unused for `closeEndedAfterMs` (ADR 0011); a read opens it again. */
  closeUnusedEnded(): void {
    this.ended.closeUnused();
  }

  /**
   * Creates a workspace folder (manifest, log, projection), registers its agents and issues
   * their runner tokens. The catalogue row is written last: a failure leaves nothing behind.
   */
  async createWorkspace(spec: CreateWorkspace): Promise<{ host: WorkspaceHost; runnerTokens: Record<string, string> }> {
    const id = spec.id ?? newWorkspaceId();
    const dir = workspaceDir(this.options.dataDir, id);
    if (this.served.hosts.has(id) || existsSync(dir)) throw new Error(`workspace folder ${dir} already exists`);
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

  /** Closes every socket, then every workspace (each writes a final snapshot), then the NATS mirrors (drained), then the catalogue. */
  async close(): Promise<void> {
    this.served.closing = true;
    if (this.poll) clearInterval(this.poll);
    this.recovery.stop();
    // The start's opening stops at the next step of the workspace it is on (`giveWay`).
    await this.ready;
    // Let a hibernation or resume under way finish: a half-archived workspace would be redone anyway.
    await this.served.settled();
    for (const session of [...this.sessions]) session.end(1001, "server shutting down");
    for (const host of this.served.hosts.values()) await host.close().catch((e: unknown) => this.log(`closing ${host.id}: ${String(e)}`));
    // After the closes: each log is final now, and JetStream is to get all of it.
    await this.served.mirrors?.stop();
    this.served.hosts.clear();
    if (this.catalog.open) this.catalog.close();
    this.lock?.release();
  }
}
