import Database from "better-sqlite3";

/**
 * The gateway's own small database (`<data>/catalog.db`): API tokens, the workspaces it serves,
 * and the agents' runner tokens. Not event-sourced: it holds credentials, not history.
 */
export type CatalogDb = Database.Database;

const migrations: ReadonlyArray<string> = [
  `CREATE TABLE tokens (
     id TEXT PRIMARY KEY,
     hash TEXT NOT NULL UNIQUE,
     role TEXT NOT NULL CHECK (role IN ('owner','collaborator','viewer')),
     name TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     expires_at INTEGER,
     revoked_at INTEGER
   );
   CREATE TABLE workspaces (
     id TEXT PRIMARY KEY,
     name TEXT NOT NULL,
     created_at INTEGER NOT NULL
   );
   CREATE TABLE runner_tokens (
     ws TEXT NOT NULL,
     agent TEXT NOT NULL,
     hash TEXT NOT NULL UNIQUE,
     created_at INTEGER NOT NULL,
     PRIMARY KEY (ws, agent)
   );`,
  // The first-run demo workspace is driven by in-process scripted runners whose tokens are
  // re-issued at each start (only hashes are stored, so the old ones cannot be handed back).
  `ALTER TABLE workspaces ADD COLUMN demo INTEGER NOT NULL DEFAULT 0;`,
  // Hibernation (issue 8): a hibernated workspace has no folder, so the catalogue is where it is
  // listed (state, archive, agents) and where prompts sent to it are held until it wakes.
  `ALTER TABLE workspaces ADD COLUMN state TEXT NOT NULL DEFAULT 'open'
     CHECK (state IN ('open','hibernating','hibernated','resuming'));
   ALTER TABLE workspaces ADD COLUMN archive TEXT;
   CREATE TABLE held_prompts (
     ws TEXT NOT NULL,
     request_id TEXT NOT NULL,
     agent TEXT NOT NULL,
     spec TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     PRIMARY KEY (ws, request_id)
   );`,
  // A terminated workspace keeps its folder but is closed once unused; its list line is kept here.
  `ALTER TABLE workspaces ADD COLUMN ended TEXT;`,
];

/** Opens (creating and migrating) the catalogue at `path`; migrations key off user_version. */
export const openCatalog = (path: string): CatalogDb => {
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  const version = db.pragma("user_version", { simple: true }) as number;
  if (version > migrations.length) {
    db.close();
    throw new Error(`${path} was written by a newer Atelier (schema ${version}, this build knows ${migrations.length})`);
  }
  db.transaction(() => {
    for (let v = version; v < migrations.length; v++) db.exec(migrations[v]!);
    db.pragma(`user_version = ${migrations.length}`);
  })();
  return db;
};
