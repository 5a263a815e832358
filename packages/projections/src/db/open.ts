import Database from "better-sqlite3";

export type Db = Database.Database;

/**
 * `live`: WAL with synchronous=NORMAL, the projection a server keeps open; automatic checkpoints
 * are off because a Checkpointer runs them off the applying thread.
 * `bulk`: a file being rebuilt aside, no journal and no syncs (a crash just discards it).
 */
export type DbMode = "live" | "bulk" | "readonly";

export const openDb = (path: string, mode: DbMode): Db => {
  const db = new Database(path, mode === "readonly" ? { readonly: true, fileMustExist: true } : {});
  if (mode === "readonly") return db;
  if (mode === "live") {
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    db.pragma("wal_autocheckpoint = 0");
  } else {
    db.pragma("journal_mode = OFF");
    db.pragma("synchronous = OFF");
    db.pragma("locking_mode = EXCLUSIVE");
    db.pragma("cache_size = -262144");
  }
  db.pragma("temp_store = MEMORY");
  return db;
};
