import { performance } from "node:perf_hooks";
import type { RebuildReason } from "@atelier/projections";
import type { WorkspaceCatalog, WorkspaceRow } from "../catalog/workspaces.ts";
import { readManifest, workspaceDir } from "./folder.ts";
import type { Hibernations } from "./hibernations.ts";
import type { WorkspaceHost } from "./host.ts";
import type { ServedWorkspaces } from "./served.ts";

/** Why a workspace's read models were replayed on open, as the server log says it. */
const REBUILD_REASONS: Record<RebuildReason, string> = {
  missing: "their file was missing",
  schema: "their schema changed",
  projectors: "their projectors changed",
  "ahead-of-log": "they were ahead of the log",
  "diverged-from-log": "they diverged from the log",
  damaged: "their file was damaged",
  requested: "they were asked to be",
};

export interface ReopeningContext {
  readonly served: ServedWorkspaces;
  readonly catalog: WorkspaceCatalog;
  readonly dataDir: string;
  readonly hibernations: Pick<Hibernations, "wake" | "wakeIfHeld">;
  /** Opens the folder `dir` of the catalogued workspace `row` (not served yet). */
  readonly open: (dir: string, row: WorkspaceRow) => Promise<WorkspaceHost>;
  /** Serves an opened workspace, archiving it at once when its log says hibernated and `archiveNow`. */
  readonly serve: (host: WorkspaceHost, archiveNow: boolean) => void;
  readonly log: (line: string) => void;
}

/**
 * Brings catalogued workspaces back from their folders: each one at the start (in the background,
 * or first when a request asks for it), and any one again after a failed hibernation or a log
 * failure.
 */
export class Reopening {
  /** Catalogued workspaces the start has not opened yet: opened in the background, or first when asked for. */
  private readonly unopened = new Map<string, WorkspaceRow>();
  /** Resolves once the start has opened every catalogued workspace (or found it unavailable); see `openInBackground`. */
  ready: Promise<void> = Promise.resolve();

  constructor(private readonly context: ReopeningContext) {}

  /** The workspaces the start is to open. */
  expect(rows: readonly WorkspaceRow[]): void {
    for (const row of rows) this.unopened.set(row.id, row);
  }

  /** Opens every workspace the start is to open, one after the other. */
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
    const { served, log } = this.context;
    if (!this.unopened.has(id)) return Promise.resolve();
    return served.serialized(id, async () => {
      const row = this.unopened.get(id);
      if (!row || served.closing) return;
      try {
        await this.reopen(row);
      } catch (error) {
        // Stopped by a shutdown (`giveWay`): not damaged, the next start opens it.
        if (served.closing) return;
        const reason = error instanceof Error ? error.message : String(error);
        served.unavailable.set(id, { reason, since: "start" });
        log(`workspace ${id}: not served, it could not be opened: ${reason}`);
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
  async reopen(row: WorkspaceRow, archiveNow = true): Promise<void> {
    const { catalog, hibernations, log } = this.context;
    const dir = workspaceDir(this.context.dataDir, row.id);
    if (readManifest(dir)) {
      if (row.ended !== null && row.state === "open") return;
      const started = performance.now();
      const host = await this.context.open(dir, row);
      const rebuilt = host.projection.rebuilt;
      if (rebuilt !== undefined) {
        const seconds = ((performance.now() - started) / 1000).toFixed(1);
        log(`workspace ${row.id}: read models rebuilt from the log (${REBUILD_REASONS[rebuilt]}): ${host.head} events, ${seconds} s`);
      }
      if (row.state === "resuming" && host.ws.status() === "hibernated") {
        await host.close();
        hibernations.wake(row.id);
        return;
      }
      if (row.state !== "open") catalog.setState(row.id, "open", null);
      this.context.serve(host, archiveNow);
      return;
    }
    // Listed as unavailable with this reason (see `opened`), not left out of the list.
    if (row.state === "open") throw new Error(`its folder ${dir} is missing`);
    if (row.state !== "hibernated") catalog.setState(row.id, "hibernated");
    hibernations.wakeIfHeld(row.id);
  }
}
