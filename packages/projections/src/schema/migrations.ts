import type { Db } from "../db/open.ts";
import { V1 } from "./v1.ts";
import { V2 } from "./v2.ts";
import { V3 } from "./v3.ts";
import { V4 } from "./v4.ts";
import { V5 } from "./v5.ts";

/** One step of the schema: DDL run once, in order, keyed off `PRAGMA user_version`. */
export interface Migration {
  readonly sql: string;
  /** Whether rows projected before this step must be replayed from the log (a rebuild). */
  readonly replay: boolean;
}

/** The chain; the schema version is its length. Append, never edit a released step. */
export const MIGRATIONS: readonly Migration[] = [
  { sql: V1, replay: true },
  { sql: V2, replay: true },
  { sql: V3, replay: false },
  { sql: V4, replay: true },
  { sql: V5, replay: true },
];

export interface MigrationResult {
  readonly from: number;
  readonly to: number;
  /** A step that needs a replay ran on a database that already held rows, or the file is newer than this build. */
  readonly replay: boolean;
}

export const schemaVersion = (db: Db): number => db.pragma("user_version", { simple: true }) as number;

/** Runs the pending steps of `chain`, each in its own transaction with its user_version bump. */
export const migrate = (db: Db, chain: readonly Migration[] = MIGRATIONS): MigrationResult => {
  const from = schemaVersion(db);
  if (from > chain.length) return { from, to: from, replay: true };
  let replay = false;
  for (let version = from + 1; version <= chain.length; version++) {
    const step = chain[version - 1]!;
    db.transaction(() => {
      db.exec(step.sql);
      db.pragma(`user_version = ${version}`);
    })();
    if (from > 0 && step.replay) replay = true;
  }
  return { from, to: Math.max(from, chain.length), replay };
};
