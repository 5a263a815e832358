import type { CatalogDb } from "./catalog.ts";

/**
 * Where a workspace is: `open` (its folder is here and served), `hibernating` (being archived; the
 * folder is wiped only once the archive is complete and verified), `hibernated` (no folder: it
 * lives in the archive) or `resuming` (being restored from it).
 */
export type WorkspaceState = "open" | "hibernating" | "hibernated" | "resuming";

/** What the catalogue keeps of a hibernated workspace, so it can be listed and woken without its folder. */
export interface ArchiveRecord {
  readonly archiveId: string;
  readonly head: number;
  readonly store: string;
  readonly mirror: string | null;
  /** Why the mirror copy failed, when it did (reported, not fatal). */
  readonly mirrorError: string | null;
  readonly agents: readonly string[];
  /** Each agent's queued prompts (the one in flight included) when it hibernated (absent in older records): held ones count on top. */
  readonly queued?: Readonly<Record<string, number>>;
  readonly hibernatedAt: number;
  /** The workspace's last activity before it hibernated (absent in records older than this field). */
  readonly lastActivityAt?: number | null;
  /** The last failed resume, when there was one. */
  readonly resumeError?: string;
}

/**
 * What the catalogue keeps of a terminated workspace that was closed for want of use: its folder
 * stays (it is opened again, read-only in effect, when someone reads it), and this is its list line.
 */
export interface EndedRecord {
  readonly agents: number;
  readonly heldLocks: number;
  readonly lastSeq: number;
  readonly lastActivityAt: number | null;
  readonly closedAt: number;
}

export interface WorkspaceRow {
  readonly id: string;
  readonly name: string;
  readonly createdAt: number;
  readonly demo: boolean;
  readonly state: WorkspaceState;
  readonly archive: ArchiveRecord | null;
  /** Set once a terminated workspace has been closed for want of use: from then on it is opened only on demand. */
  readonly ended: EndedRecord | null;
}

/** A prompt sent to a hibernated workspace, held durably here until the workspace wakes. */
export interface HeldPrompt {
  readonly requestId: string;
  readonly agent: string;
  readonly spec: { text: string; author: string; priority?: number; interrupt?: boolean };
  readonly createdAt: number;
}

type Row = { id: string; name: string; created_at: number; demo: number; state: WorkspaceState; archive: string | null; ended: string | null };
const toRow = (r: Row): WorkspaceRow => ({
  id: r.id,
  name: r.name,
  createdAt: r.created_at,
  demo: r.demo === 1,
  state: r.state,
  archive: r.archive === null ? null : (JSON.parse(r.archive) as ArchiveRecord),
  ended: r.ended === null ? null : (JSON.parse(r.ended) as EndedRecord),
});
const COLUMNS = "id, name, created_at, demo, state, archive, ended";

/** The workspaces this gateway serves; their folders are `<data>/workspaces/<id>/`. */
export class WorkspaceCatalog {
  constructor(private readonly db: CatalogDb) {}

  add(row: Pick<WorkspaceRow, "id" | "name" | "createdAt" | "demo">): void {
    this.db.prepare("INSERT INTO workspaces (id, name, created_at, demo) VALUES (?, ?, ?, ?)").run(row.id, row.name, row.createdAt, row.demo ? 1 : 0);
  }

  list(): WorkspaceRow[] {
    return (this.db.prepare(`SELECT ${COLUMNS} FROM workspaces ORDER BY created_at, id`).all() as Row[]).map(toRow);
  }

  get(id: string): WorkspaceRow | undefined {
    const r = this.db.prepare(`SELECT ${COLUMNS} FROM workspaces WHERE id = ?`).get(id) as Row | undefined;
    return r && toRow(r);
  }

  has(id: string): boolean {
    return this.db.prepare("SELECT 1 FROM workspaces WHERE id = ?").get(id) !== undefined;
  }

  /** Moves a workspace to `state`; `archive` is replaced when given. */
  setState(id: string, state: WorkspaceState, archive?: ArchiveRecord | null): void {
    if (archive === undefined) this.db.prepare("UPDATE workspaces SET state = ? WHERE id = ?").run(state, id);
    else this.db.prepare("UPDATE workspaces SET state = ?, archive = ? WHERE id = ?").run(state, archive === null ? null : JSON.stringify(archive), id);
  }

  /** Records that a terminated workspace was closed, with its list line as it was then. */
  setEnded(id: string, ended: EndedRecord): void {
    this.db.prepare("UPDATE workspaces SET ended = ? WHERE id = ?").run(JSON.stringify(ended), id);
  }

  /** Holds a prompt for a hibernated workspace; the same request id twice is one prompt. */
  hold(ws: string, prompt: HeldPrompt): { duplicate: boolean } {
    const r = this.db
      .prepare("INSERT OR IGNORE INTO held_prompts (ws, request_id, agent, spec, created_at) VALUES (?, ?, ?, ?, ?)")
      .run(ws, prompt.requestId, prompt.agent, JSON.stringify(prompt.spec), prompt.createdAt);
    return { duplicate: r.changes === 0 };
  }

  held(ws: string): HeldPrompt[] {
    return (this.db.prepare("SELECT request_id, agent, spec, created_at FROM held_prompts WHERE ws = ? ORDER BY created_at, rowid").all(ws) as Array<{
      request_id: string;
      agent: string;
      spec: string;
      created_at: number;
    }>).map((r) => ({ requestId: r.request_id, agent: r.agent, spec: JSON.parse(r.spec) as HeldPrompt["spec"], createdAt: r.created_at }));
  }

  release(ws: string, requestId: string): void {
    this.db.prepare("DELETE FROM held_prompts WHERE ws = ? AND request_id = ?").run(ws, requestId);
  }
}
