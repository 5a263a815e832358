import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { atelierProjectors, migrate, openDb, type Stmt } from "../src/index.ts";
import { cleanup, tempDir, writeWorkspace } from "./support/fixtures.ts";

afterEach(cleanup);

describe("the atelier projectors", () => {
  it("find every row by primary key, so a rebuild can drop the secondary indexes while it loads", async () => {
    const dir = tempDir();
    const log = await writeWorkspace(dir, 51, 3000, { finale: true });
    const seen = new Map<string, Stmt>();
    for (const event of log.read({})) for (const statement of atelierProjectors.project(event)) seen.set(statement.sql, statement);
    await log.close();
    expect(seen.size).toBeGreaterThan(30);

    const db = openDb(join(dir, "plans.db"), "bulk");
    migrate(db);
    for (const { name } of db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL").all() as Array<{ name: string }>) {
      db.exec(`DROP INDEX "${name}"`);
    }
    for (const { sql, params } of seen.values()) {
      const plan = db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as Array<{ detail: string }>;
      expect(plan.map((step) => step.detail).filter((detail) => /^SCAN (?!CONSTANT ROW)/.test(detail)), sql).toEqual([]);
    }
    db.close();
  });
});
