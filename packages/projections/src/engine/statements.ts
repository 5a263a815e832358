import type Database from "better-sqlite3";
import type { Db } from "../db/open.ts";
import type { Stmt } from "../projectors/sql.ts";

/** Prepared statements by SQL text: projectors repeat a handful of texts, so each is compiled once. */
export class StatementCache {
  private readonly cache = new Map<string, Database.Statement>();

  constructor(private readonly db: Db) {}

  get(sql: string): Database.Statement {
    let prepared = this.cache.get(sql);
    if (prepared === undefined) {
      prepared = this.db.prepare(sql);
      this.cache.set(sql, prepared);
    }
    return prepared;
  }

  run(statement: Stmt): void {
    this.get(statement.sql).run(statement.params as unknown[]);
  }
}
