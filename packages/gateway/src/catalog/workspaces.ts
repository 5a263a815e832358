import type { CatalogDb } from "./catalog.ts";

export interface WorkspaceRow {
  readonly id: string;
  readonly name: string;
  readonly createdAt: number;
  readonly demo: boolean;
}

/** The workspaces this gateway serves; their folders are `<data>/workspaces/<id>/`. */
export class WorkspaceCatalog {
  constructor(private readonly db: CatalogDb) {}

  add(row: WorkspaceRow): void {
    this.db.prepare("INSERT INTO workspaces (id, name, created_at, demo) VALUES (?, ?, ?, ?)").run(row.id, row.name, row.createdAt, row.demo ? 1 : 0);
  }

  list(): WorkspaceRow[] {
    return (this.db.prepare("SELECT id, name, created_at, demo FROM workspaces ORDER BY created_at, id").all() as Array<{
      id: string;
      name: string;
      created_at: number;
      demo: number;
    }>).map((r) => ({ id: r.id, name: r.name, createdAt: r.created_at, demo: r.demo === 1 }));
  }

  has(id: string): boolean {
    return this.db.prepare("SELECT 1 FROM workspaces WHERE id = ?").get(id) !== undefined;
  }
}
