import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { systemClock, type Clock, type FsyncPolicy } from "@atelier/events";
import type { AgentSpec } from "@atelier/actors";
import { RunnerTokens } from "../auth/runner-tokens.ts";
import { TokenStore } from "../auth/tokens.ts";
import { openCatalog, type CatalogDb } from "../catalog/catalog.ts";
import { WorkspaceCatalog } from "../catalog/workspaces.ts";
import { notFound } from "../http/errors.ts";
import { newManifest, readManifest, workspaceDir, writeManifest } from "./folder.ts";
import { WorkspaceHost } from "./host.ts";
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
  readonly hosts = new Map<string, WorkspaceHost>();
  readonly sessions = new Set<Session>();
  readonly metrics = new Metrics();
  readonly tokens: TokenStore;
  readonly runnerTokens: RunnerTokens;
  readonly workspaces: WorkspaceCatalog;
  readonly limits: Limits;
  readonly clock: Clock;
  private poll: NodeJS.Timeout | undefined;
  private mirrors: Mirrors | undefined;

  private constructor(
    readonly options: GatewayOptions,
    readonly catalog: CatalogDb,
  ) {
    this.clock = options.clock ?? systemClock;
    this.tokens = new TokenStore(catalog, this.clock);
    this.runnerTokens = new RunnerTokens(catalog, this.clock);
    this.workspaces = new WorkspaceCatalog(catalog);
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.metrics.gauge("atelier_workspaces_open", "Workspaces open in this gateway", () => [[{}, this.hosts.size]]);
    this.metrics.gauge("atelier_ws_sessions", "Open WebSocket sessions", () => [[{}, this.sessions.size]]);
  }

  /** Opens the catalogue and every workspace it lists. */
  static async open(options: GatewayOptions): Promise<Gateway> {
    mkdirSync(options.dataDir, { recursive: true });
    const gateway = new Gateway(options, openCatalog(join(options.dataDir, "catalog.db")));
    try {
      if (options.nats) gateway.mirrors = await Mirrors.connect(options.nats);
      for (const row of gateway.workspaces.list()) {
        const dir = workspaceDir(options.dataDir, row.id);
        if (!readManifest(dir)) {
          gateway.log(`workspace ${row.id}: folder ${dir} is missing; not served`);
          continue;
        }
        gateway.serve(await WorkspaceHost.open(dir, row.id, row.name, row.demo, gateway.hostOptions()));
      }
    } catch (error) {
      await gateway.close();
      throw error;
    }
    // Tokens may be revoked by another process (`atelier token revoke`) or simply expire, and
    // neither announces itself: every session is re-checked each second (a point query per
    // socket, far below the noise). Revocations through this gateway re-check at once.
    gateway.poll = setInterval(() => gateway.revalidate(), 1000);
    gateway.poll.unref();
    return gateway;
  }

  log(line: string): void {
    (this.options.log ?? ((l: string) => process.stderr.write(`${l}\n`)))(line);
  }

  private hostOptions() {
    return {
      clock: this.clock,
      ...(this.options.fsync ? { fsync: this.options.fsync } : {}),
      onError: (error: unknown) => this.log(`projection: ${error instanceof Error ? error.message : String(error)}`),
    };
  }

  private serve(host: WorkspaceHost): void {
    this.hosts.set(host.id, host);
    this.mirrors?.attach(host);
  }

  /** The open workspace `id`, or a 404. */
  host(id: string): WorkspaceHost {
    const host = this.hosts.get(id);
    if (!host) throw notFound(`no workspace ${id}`);
    return host;
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
      this.workspaces.add({ id, name: spec.name, createdAt: now, demo: spec.demo ?? false });
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
    if (this.poll) clearInterval(this.poll);
    for (const session of [...this.sessions]) session.end(1001, "server shutting down");
    await this.mirrors?.stop();
    for (const host of this.hosts.values()) await host.close().catch((e: unknown) => this.log(`closing ${host.id}: ${String(e)}`));
    this.hosts.clear();
    if (this.catalog.open) this.catalog.close();
  }
}
