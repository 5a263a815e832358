import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { atelierProjectors, canonicalDump, openDb, rebuildProjection, type Registry, stmt } from "../src/index.ts";
import { cleanup, tempDir, writeWorkspace } from "./support/fixtures.ts";

afterEach(cleanup);

const inspect = (path: string) => {
  const db = openDb(path, "readonly");
  try {
    const indexes = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'timeline' AND sql IS NOT NULL ORDER BY name").all() as Array<{ name: string }>).map((r) => r.name);
    // Every table, index and trigger, as SQL: the worker's file gets the other tables' schema copied into it.
    const schema = db.prepare("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name").all();
    const counted = db.prepare("SELECT coalesce(sum(messages), 0) FROM message_counts").pluck().get();
    return { dump: canonicalDump(db), integrity: db.pragma("integrity_check", { simple: true }), indexes, schema, counted };
  } finally {
    db.close();
  }
};

describe("a rebuild with the timeline and messages built by a worker thread", () => {
  it("gives the same database as one built in process: rows, names, schema with indexes and triggers, and a sound file", async () => {
    const dir = tempDir();
    const log = await writeWorkspace(dir, 41, 3_000);
    rebuildProjection(join(dir, "in-process.db"), log, { worker: false });
    rebuildProjection(join(dir, "worker.db"), log, { worker: true });
    const inProcess = inspect(join(dir, "in-process.db"));
    const byWorker = inspect(join(dir, "worker.db"));
    expect(byWorker.integrity).toBe("ok");
    expect(byWorker.indexes).toEqual(inProcess.indexes);
    expect(byWorker.indexes.length).toBeGreaterThan(0);
    expect(byWorker.schema).toEqual(inProcess.schema);
    expect(byWorker.dump).toBe(inProcess.dump);
    // The messages (and the counts their trigger keeps) were among what the worker built.
    expect(byWorker.counted).toBeGreaterThan(100);
    // The worker's file became the rebuilt database: nothing of it is left beside.
    expect(readdirSync(dir).filter((name) => name.includes(".aside"))).toEqual([]);
    await log.close();
  });

  /** A worker rebuild with `registry` fails with `message`, leaving neither the target nor the worker's file. */
  const expectFailedRebuild = async (seed: number, registry: Registry, message: string): Promise<void> => {
    const dir = tempDir();
    const log = await writeWorkspace(dir, seed, 2_000);
    const target = join(dir, "rebuilt.db");
    expect(() => rebuildProjection(target, log, { registry, worker: true })).toThrow(message);
    expect(existsSync(target)).toBe(false);
    expect(readdirSync(dir).filter((name) => name.includes(".aside"))).toEqual([]);
    await log.close();
  };

  it("fails as the in-process rebuild does when a projector throws, and leaves no worker file behind", async () => {
    const failing: Registry = {
      version: atelierProjectors.version,
      project(event) {
        if (event.seq === 1_500) throw new Error("projector failed at seq 1500");
        return atelierProjectors.project(event);
      },
    };
    await expectFailedRebuild(42, failing, "projector failed at seq 1500");
  });

  it("refuses a projector statement that reads a table the worker builds, naming it", async () => {
    const reading: Registry = {
      version: atelierProjectors.version,
      project: (event) => [...atelierProjectors.project(event), stmt("UPDATE agent_stats SET tool_calls = (SELECT count(*) FROM messages) WHERE agent = ?", "none")],
    };
    await expectFailedRebuild(43, reading, "reads messages, which a rebuild builds aside");
  });
});
