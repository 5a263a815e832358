import type { Clock } from "@atelier/events";
import { workspaceStatus } from "@atelier/projections";
import type { WorkspaceCatalog, WorkspaceRow } from "../catalog/workspaces.ts";
import { ApiError, notFound } from "../http/errors.ts";
import { readManifest, workspaceDir } from "./folder.ts";
import type { WorkspaceHost } from "./host.ts";
import type { ServedWorkspaces } from "./served.ts";

const CLOSE_ENDED_AFTER_MS = 5 * 60_000;

export interface EndedContext {
  readonly served: ServedWorkspaces;
  readonly catalog: WorkspaceCatalog;
  readonly clock: Clock;
  readonly dataDir: string;
  /** How long a terminated workspace stays open with no socket and no request (default 5 minutes). */
  readonly closeAfterMs: number | undefined;
  /** Opens the folder `dir` of the catalogued workspace `row` and serves it. */
  readonly open: (dir: string, row: WorkspaceRow) => Promise<WorkspaceHost>;
  readonly log: (line: string) => void;
}

/**
 * Terminated workspaces (ADR 0011): nothing changes them any more, so one that has had no socket
 * and no request for a while is closed, and need not hold memory, threads and file handles. Its
 * list line goes to the catalogue, and a read opens it again.
 */
export class EndedWorkspaces {
  constructor(private readonly context: EndedContext) {}

  /** Closes every terminated workspace unused for `closeAfterMs`. */
  closeUnused(): void {
    const { served, log } = this.context;
    for (const host of served.hosts.values()) {
      if (this.unused(host)) void this.close(host).catch((e: unknown) => log(`closing ${host.id}: ${String(e)}`));
    }
  }

  /** Opens a terminated workspace that was closed for want of use, so that it can be read. */
  open(id: string): Promise<WorkspaceHost> {
    const { served, catalog, dataDir } = this.context;
    return served.servedOr(id, async () => {
      const row = catalog.get(id);
      if (!row?.ended) throw notFound(`no workspace ${id}`);
      const dir = workspaceDir(dataDir, id);
      if (!readManifest(dir)) throw new ApiError(503, "unavailable", `workspace ${id} is terminated and its folder ${dir} is missing`);
      return this.context.open(dir, row);
    });
  }

  private unused(host: WorkspaceHost): boolean {
    const idle = this.context.closeAfterMs ?? CLOSE_ENDED_AFTER_MS;
    return host.ws.status() === "terminated" && host.sockets === 0 && this.context.served.unusedFor(host.id) >= idle;
  }

  private close(host: WorkspaceHost): Promise<void> {
    const { served, catalog, clock, log } = this.context;
    return served.serialized(host.id, async () => {
      // Checked again: a request or a socket may have come since.
      if (served.closing || served.hosts.get(host.id) !== host || !this.unused(host)) return;
      const status = workspaceStatus(host.projection);
      catalog.setEnded(host.id, {
        agents: status?.agents ?? 0,
        heldLocks: status?.heldLocks ?? 0,
        lastSeq: host.projection.seq,
        lastActivityAt: status?.lastActivityAt ?? null,
        closedAt: clock.now(),
      });
      await served.withdraw(host.id);
      await host.close();
      log(`workspace ${host.id}: terminated and unused, closed (opened again when read)`);
    });
  }
}
