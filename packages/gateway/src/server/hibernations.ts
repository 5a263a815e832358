import { randomUUID } from "node:crypto";
import type { Clock } from "@atelier/events";
import { DEFAULT_MAX_QUEUE_DEPTH, type EnqueueSpec } from "@atelier/actors";
import { archiveHost, queueHeld, restoreHost, WokeWhileArchiving, type HibernationContext } from "../archive/hibernation.ts";
import type { WorkspaceCatalog, WorkspaceRow } from "../catalog/workspaces.ts";
import { ApiError, notFound } from "../http/errors.ts";
import type { WorkspaceHost } from "./host.ts";
import type { Metrics } from "./metrics.ts";
import type { ServedWorkspaces } from "./served.ts";

export interface HibernationsContext {
  readonly served: ServedWorkspaces;
  readonly catalog: WorkspaceCatalog;
  readonly clock: Clock;
  readonly metrics: Metrics;
  readonly archive: () => HibernationContext;
  /** Serves a workspace again from its folder, without archiving it at once. */
  readonly reopen: (row: WorkspaceRow) => Promise<void>;
  readonly serve: (host: WorkspaceHost) => void;
  readonly log: (line: string) => void;
}

/**
 * Workspaces going to and coming back from the archive (004), and prompts held for them meanwhile.
 */
export class Hibernations {
  constructor(private readonly context: HibernationsContext) {}

  /** The catalogue row of a workspace that is not served because it is (being) hibernated or resumed. */
  hibernated(id: string): WorkspaceRow | undefined {
    if (this.context.served.hosts.has(id)) return undefined;
    const row = this.context.catalog.get(id);
    return row && row.state !== "open" ? row : undefined;
  }

  /**
   * Archives a workspace whose log reached `hibernated` (by request, or by its idle/lifetime
   * timers): closes it, archives the folder, wipes it, and lists it as hibernated. If archiving
   * fails before the wipe, the folder is intact and served again (a later hibernate request or
   * restart retries). Prompts that arrived meanwhile wake it right after.
   */
  archive(host: WorkspaceHost): Promise<void> {
    const { served, catalog, metrics, log } = this.context;
    return served.serialized(host.id, async () => {
      if (served.closing || served.hosts.get(host.id) !== host || host.ws.status() !== "hibernated") return;
      await served.withdraw(host.id);
      // Withdrawing awaits the mirror's detach: a request that had the workspace may have woken it meanwhile.
      // It is still open, so it is served as it is (reopening its folder would find its log locked).
      if (host.ws.status() !== "hibernated") {
        served.add(host);
        log(`workspace ${host.id}: woke before it was archived; served again`);
        return;
      }
      try {
        const record = await archiveHost(this.context.archive(), host);
        metrics.inc("atelier_hibernations_total", "Workspaces archived and wiped", { mirror: record.mirrorError === null ? "ok" : "failed" });
        log(`workspace ${host.id}: hibernated to ${record.store} as ${record.archiveId} (seq ${record.head})`);
      } catch (error) {
        if (error instanceof WokeWhileArchiving) log(`${error.message}; served again`);
        else log(`workspace ${host.id}: hibernation failed, the folder is kept: ${error instanceof Error ? error.message : String(error)}`);
        // Served again without archiving at once (the store may be down): a hibernate request or a restart retries.
        const row = catalog.get(host.id);
        if (row) await this.context.reopen(row).catch((e: unknown) => log(`reopening ${host.id}: ${String(e)}`));
        throw error;
      }
      this.wakeIfHeld(host.id);
    });
  }

  /** Restores a hibernated workspace from its archive and serves it again; resolves once it is active. */
  resume(id: string): Promise<WorkspaceHost> {
    const { served, metrics, log } = this.context;
    return served.servedOr(id, async () => {
      if (!this.hibernated(id)) throw notFound(`no workspace ${id}`);
      try {
        const { host, from } = await restoreHost(this.context.archive(), id);
        metrics.inc("atelier_resumes_total", "Workspaces restored from their archive", { from });
        log(`workspace ${id}: resumed from ${from === "local" ? "its folder" : `the ${from}'s archive`} (seq ${host.head})`);
        this.context.serve(host);
        return host;
      } catch (error) {
        if (error instanceof ApiError) throw error;
        throw new ApiError(503, "resume_failed", `workspace ${id} could not be resumed and was not opened: ${error instanceof Error ? error.message : String(error)}`);
      }
    });
  }

  /**
   * Queues the prompts held for a workspace served again from its folder, not woken from the archive
   * (a hibernation that failed or was abandoned, a start after a crash): they were acknowledged, and
   * no resume will deliver them. Queued after whatever serves it; a prompt wakes a hibernated workspace.
   */
  deliverHeld(host: WorkspaceHost): void {
    const { served, catalog, log } = this.context;
    if (catalog.held(host.id).length === 0) return;
    served
      .serialized(host.id, async () => {
        // Withdrawn again meanwhile: the next wake delivers them.
        if (served.hosts.get(host.id) !== host) return;
        const delivered = new Set<string>();
        await queueHeld({ catalog, log }, host, delivered);
        for (const requestId of delivered) catalog.release(host.id, requestId);
      })
      .catch((e: unknown) => log(`workspace ${host.id}: queueing its held prompts failed: ${String(e)}`));
  }

  /** Wakes workspace `id` in the background when prompts are held for it. */
  wakeIfHeld(id: string): void {
    if (this.context.catalog.held(id).length > 0) this.wake(id);
  }

  /**
   * A prompt for a hibernated workspace (004: queue it, then wake): held in the catalogue, which
   * is durable while the folder is in the archive, and delivered once it has resumed, keyed by
   * its request id (the client's, or one made here), so it is queued exactly once.
   */
  holdPrompt(id: string, agent: string, spec: EnqueueSpec): { requestId: string; duplicate: boolean } {
    const { catalog, clock } = this.context;
    const row = this.hibernated(id);
    if (!row) throw notFound(`no workspace ${id}`);
    if (row.archive && row.archive.agents.length > 0 && !row.archive.agents.includes(agent)) throw notFound(`no agent ${agent} in workspace ${id}`);
    const requestId = spec.clientRequestId ?? `held_${randomUUID()}`;
    const held = catalog.held(id);
    // The queue's limit, checked now: once acknowledged, a held prompt must not be refused at the wake.
    const waiting = (row.archive?.queued?.[agent] ?? 0) + held.filter((p) => p.agent === agent).length;
    if (!held.some((p) => p.requestId === requestId) && waiting >= DEFAULT_MAX_QUEUE_DEPTH) {
      throw new ApiError(429, "queue_full", `prompt queue of ${agent} is full (${waiting} queued or held while workspace ${id} is in the archive); retry later`);
    }
    const { duplicate } = catalog.hold(id, {
      requestId,
      agent,
      spec: {
        text: spec.text,
        author: spec.author,
        ...(spec.priority !== undefined ? { priority: spec.priority } : {}),
        ...(spec.interrupt !== undefined ? { interrupt: spec.interrupt } : {}),
      },
      createdAt: clock.now(),
    });
    this.wake(id);
    return { requestId, duplicate };
  }

  /** Resumes workspace `id` in the background; a failure is logged. */
  wake(id: string): void {
    void this.resume(id).catch((e: unknown) => this.context.log(`waking ${id}: ${String(e)}`));
  }
}
