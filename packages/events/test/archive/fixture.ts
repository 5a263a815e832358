import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import Database from "better-sqlite3";
import { BlobStore, openLog, seededRandom, VirtualClock, type WorkspaceLocation } from "../../src/index.ts";
import { note, testCatalogue } from "../helpers.ts";

let made = 0;
/** A workspace of its own per call, so tests that share a server do not see each other's archives. */
export const freshLocation = (): WorkspaceLocation => ({ org: "org_1", team: "team_a", user: "user_x", workspace: `ws_${++made}` });

/**
 * A workspace folder as the runtime leaves it: a log in several segments spanning two days, blobs,
 * a projection database with rows still in its WAL, a snapshot and the folder manifest. The
 * database stays open (returned) so that the archive must use the online backup.
 */
export const makeWorkspace = async (dir: string, location: WorkspaceLocation, events = 3_000): Promise<{ db: Database.Database; blobs: string[] }> => {
  const clock = new VirtualClock(Date.UTC(2026, 0, 31, 23, 0));
  const log = await openLog(dir, {
    workspace: location.workspace, catalogue: testCatalogue, clock, random: seededRandom(3), segmentBytes: 64 * 1024, fsync: "none",
  });
  for (let i = 0; i < events; i += 100) {
    await log.append(Array.from({ length: Math.min(100, events - i) }, (_, j) => note(`event ${i + j} ${"x".repeat((i + j) % 50)}`)));
    clock.advance(180_000);
  }
  await log.close();

  const store = new BlobStore(dir);
  const blobs: string[] = [];
  for (const body of ["a tool output", "a long message body ".repeat(500), "a tool output"]) blobs.push((await store.put(new TextEncoder().encode(body))).sha256);

  const db = new Database(join(dir, "projections.db"));
  db.pragma("journal_mode = WAL");
  db.pragma("wal_autocheckpoint = 0");
  db.exec("CREATE TABLE notes (seq INTEGER PRIMARY KEY, text TEXT NOT NULL)");
  const insert = db.prepare("INSERT INTO notes VALUES (?, ?)");
  db.transaction(() => {
    for (let seq = 1; seq <= events; seq++) insert.run(seq, `event ${seq}`);
  })();

  mkdirSync(join(dir, "snapshots"));
  writeFileSync(join(dir, "snapshots", "workspace.json"), JSON.stringify({ seq: events, state: "idle", timers: [{ id: "idle", at: clock.now() + 5_000 }] }));
  writeFileSync(join(dir, "manifest.json"), JSON.stringify({ id: location.workspace, name: "Test", schemaVersion: 1 }));
  return { db, blobs };
};

/** Every file of a folder (relative path → bytes), SQLite side files and the writer lock left out. */
export const folderBytes = (dir: string): Map<string, Buffer> => {
  const out = new Map<string, Buffer>();
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (!/(-wal|-shm|writer\.lock)$/.test(name)) out.set(relative(dir, path), readFileSync(path));
    }
  };
  walk(dir);
  return out;
};

/** The rows of every table, in key order: equal dumps mean equal projections. */
export const dumpDatabase = (path: string): string => {
  const db = new Database(path, { readonly: true });
  try {
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all() as string[];
    return JSON.stringify(tables.map((t) => [t, db.prepare(`SELECT * FROM "${t}" ORDER BY 1`).all()]));
  } finally {
    db.close();
  }
};
