import Database from "better-sqlite3";

export type Db = Database.Database;

/**
 * `live`: WAL with synchronous=NORMAL, the projection a server keeps open; automatic checkpoints
 * are off because a Checkpointer runs them off the applying thread.
 * `bulk`: a file being rebuilt aside, no journal and no syncs (a crash just discards it).
 */
export type DbMode = "live" | "bulk" | "readonly";

/**
 * Takes effect on a new file only (a rebuild makes one). A live single-event commit rewrites ~9
 * pages into the WAL: at 1 KiB that is ~10 KB instead of ~37 KB at 4 KiB, and the WAL traffic and
 * its checkpoints' fsyncs share the disk with the log's fdatasync (ADR 0010).
 */
export const PAGE_SIZE = 1024;

/** A file being built aside (also a rebuild's timeline worker's): no journal, no syncs, one writer, a large cache. */
export const BULK_PRAGMAS = ["journal_mode = OFF", "synchronous = OFF", "locking_mode = EXCLUSIVE", "cache_size = -262144"];

/** SQLite's word for a file whose pages are not what it wrote (`SQLITE_CORRUPT*`, `SQLITE_NOTADB`). */
export const isDamaged = (error: unknown): boolean => {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && (code.startsWith("SQLITE_CORRUPT") || code === "SQLITE_NOTADB");
};

export const openDb = (path: string, mode: DbMode): Db => {
  const db = new Database(path, mode === "readonly" ? { readonly: true, fileMustExist: true } : {});
  if (mode === "readonly") return db;
  db.pragma(`page_size = ${PAGE_SIZE}`);
  if (mode === "live") {
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    db.pragma("wal_autocheckpoint = 0");
    // 64 MiB instead of SQLite's 2 MiB: at a million events the indexes a live commit touches
    // (~125 MB file) stay in the page cache instead of being read again through the OS.
    db.pragma("cache_size = -65536");
  } else {
    for (const pragma of BULK_PRAGMAS) db.pragma(pragma);
  }
  db.pragma("temp_store = MEMORY");
  return db;
};
