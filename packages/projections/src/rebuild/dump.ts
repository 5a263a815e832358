import { createHash } from "node:crypto";
import type { Db } from "../db/open.ts";

const quoteId = (name: string): string => `"${name.replaceAll('"', '""')}"`;

/** The projection's tables, by name. */
export const tableNames = (db: Db): string[] =>
  db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
    .pluck()
    .all() as string[];

/**
 * One table in canonical form: a header naming its columns, then one line per row ordered by
 * primary key, each value as SQLite's `quote()` literal (types and real formatting included).
 */
export function* dumpTable(db: Db, table: string): Generator<string> {
  const columns = db.pragma(`table_info(${quoteId(table)})`) as Array<{ name: string; pk: number }>;
  const key = columns.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk).map((c) => quoteId(c.name));
  yield `-- ${table} (${columns.map((c) => c.name).join(", ")})`;
  const values = columns.map((c) => `quote(${quoteId(c.name)})`).join(" || ',' || ");
  const order = key.length > 0 ? key.join(", ") : "rowid";
  yield* db.prepare(`SELECT ${values} FROM ${quoteId(table)} ORDER BY ${order}`).pluck().iterate() as Iterable<string>;
}

/** The whole projection as canonical text: schema version, then every table. */
export const canonicalDump = (db: Db): string => {
  const lines = [`-- user_version ${String(db.pragma("user_version", { simple: true }))}`];
  for (const table of tableNames(db)) for (const line of dumpTable(db, table)) lines.push(line);
  return `${lines.join("\n")}\n`;
};

/** sha256 of each table's canonical dump, for comparing large projections without holding them. */
export const tableDigests = (db: Db): Map<string, string> => {
  const digests = new Map<string, string>();
  for (const table of tableNames(db)) {
    const hash = createHash("sha256");
    for (const line of dumpTable(db, table)) hash.update(line).update("\n");
    digests.set(table, hash.digest("hex"));
  }
  return digests;
};
