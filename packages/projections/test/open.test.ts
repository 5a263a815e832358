import { spawnSync } from "node:child_process";
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openLog } from "@atelier/events";
import { atelierCatalogue } from "@atelier/actors/machines";
import { agentMetrics, atelierProjectors, checkProjection, MIGRATIONS, migrate, openDb, openProjection, rebuildProjection, type Registry } from "../src/index.ts";
import { cleanup, openWorkloadLog, tempDir, writeWorkspace } from "./support/fixtures.ts";
import { Workload } from "./support/workload.ts";

afterEach(cleanup);

const renamed = (version: string): Registry => ({ version, project: (event) => atelierProjectors.project(event) });

describe("opening a projection", () => {
  it("follows the log live: each committed append is queryable when append resolves, never before", async () => {
    const dir = tempDir();
    const workload = new Workload({ seed: 31 });
    const log = await openWorkloadLog(dir, workload);
    const projection = await openProjection(dir, log);
    const applied: number[] = [];
    projection.onApplied((seq) => {
      expect(seq).toBeLessThanOrEqual(log.head());
      applied.push(seq);
    });
    for (let i = 0; i < 50; i++) {
      const events = await log.append(workload.take(3));
      expect(projection.seq).toBe(events.at(-1)!.seq);
    }
    expect(applied.at(-1)).toBe(log.head());
    await projection.close();
    expect(checkProjection(dir, log).ok).toBe(true);
    await log.close();
  });

  it("folds and deletes its WAL on close, whether its checkpointer thread had started or not", async () => {
    const dir = tempDir();
    const workload = new Workload({ seed: 34 });
    const log = await openWorkloadLog(dir, workload);
    const wal = () => existsSync(join(dir, "projections.db-wal")) || existsSync(join(dir, "projections.db-shm"));
    // Closed at once: the checkpointer's thread is still starting.
    let projection = await openProjection(dir, log);
    await log.append(workload.take(20));
    expect(wal()).toBe(true);
    await projection.close();
    expect(wal()).toBe(false);
    // Closed after its thread opened its own connection (which must end first, or the WAL stays).
    projection = await openProjection(dir, log);
    await log.append(workload.take(20));
    await new Promise((resolve) => setTimeout(resolve, 300));
    await projection.close();
    expect(wal()).toBe(false);
    expect(checkProjection(dir, log).ok).toBe(true);
    await log.close();
  });

  it("checkpoints every open projection from one thread, and closing one (not the last) still folds and deletes its WAL", async () => {
    // The OS threads of this process (Linux): each checkpoint thread of its own used to add at least one.
    const threads = () => readdirSync("/proc/self/task").length;
    const open = async (seed: number) => {
      const dir = tempDir();
      const workload = new Workload({ seed });
      const log = await openWorkloadLog(dir, workload);
      const projection = await openProjection(dir, log);
      await log.append(workload.take(20));
      return { dir, log, projection, wal: () => existsSync(join(dir, "projections.db-wal")) || existsSync(join(dir, "projections.db-shm")) };
    };
    const first = await open(61);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const withOne = threads();
    const more = [await open(62), await open(63), await open(64)];
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(threads()).toBe(withOne);

    // The checkpoint thread's connection to this file is closed on request, the others stay.
    await more[0]!.projection.close();
    expect(more[0]!.wal()).toBe(false);
    expect(first.wal()).toBe(true);
    for (const w of [first, more[1]!, more[2]!]) await w.projection.close();
    for (const w of [first, ...more]) {
      expect(w.wal()).toBe(false);
      expect(checkProjection(w.dir, w.log).ok).toBe(true);
      await w.log.close();
    }
  });

  it("closes every projection of a process that has nothing else to do (the checkpoint thread's answers keep it alive)", async () => {
    const dirs = [tempDir(), tempDir(), tempDir()];
    for (const [i, dir] of dirs.entries()) await (await writeWorkspace(dir, 70 + i, 200)).close();
    const child = spawnSync(process.execPath, ["--import", "tsx", join(import.meta.dirname, "support/close-child.ts"), ...dirs], { encoding: "utf8" });
    expect({ status: child.status, stdout: child.stdout.trim() }).toEqual({ status: 0, stdout: "closed 3" });
    for (const dir of dirs) expect(existsSync(join(dir, "projections.db-wal"))).toBe(false);
  });

  it("creates live and rebuilt files with 1 KiB pages (less WAL written per live commit)", async () => {
    const dir = tempDir();
    const workload = new Workload({ seed: 33 });
    const log = await openWorkloadLog(dir, workload);
    const projection = await openProjection(dir, log);
    expect(projection.db.pragma("page_size", { simple: true })).toBe(1024);
    await projection.close();
    const rebuilt = join(dir, "rebuilt.db");
    rebuildProjection(rebuilt, log);
    const db = openDb(rebuilt, "readonly");
    expect(db.pragma("page_size", { simple: true })).toBe(1024);
    db.close();
    await log.close();
  });

  it("keeps a failed live apply at its checkpoint and catches up on the next commit", async () => {
    const dir = tempDir();
    const workload = new Workload({ seed: 32 });
    const log = await openWorkloadLog(dir, workload);
    let failNext = false;
    const errors: unknown[] = [];
    const registry: Registry = {
      version: atelierProjectors.version,
      project(event) {
        if (failNext) {
          failNext = false;
          throw new Error("disk full");
        }
        return atelierProjectors.project(event);
      },
    };
    const projection = await openProjection(dir, log, { registry, onError: (e) => errors.push(e) });
    await log.append(workload.take(10));
    const before = projection.seq;
    failNext = true;
    await log.append(workload.take(10));
    expect(projection.seq).toBe(before);
    expect(projection.error).toBeInstanceOf(Error);
    await log.append(workload.take(10));
    expect(projection.seq).toBe(log.head());
    expect(projection.error).toBeUndefined();
    expect(errors).toHaveLength(1);
    await projection.close();
    expect(checkProjection(dir, log).ok).toBe(true);
    await log.close();
  });

  it("fills a missing file by a rebuild once the log is long, and by catching up while it is short", async () => {
    const shortDir = tempDir();
    const short = await writeWorkspace(shortDir, 35, 999);
    const caughtUp = await openProjection(shortDir, short);
    expect(caughtUp.rebuilt).toBeUndefined();
    expect(caughtUp.seq).toBe(999);
    await caughtUp.close();
    await short.close();

    const longDir = tempDir();
    const long = await writeWorkspace(longDir, 35, 1_000);
    const rebuilt = await openProjection(longDir, long);
    expect(rebuilt.rebuilt).toBe("missing");
    expect(rebuilt.seq).toBe(1_000);
    await rebuilt.close();
    expect(checkProjection(longDir, long).ok).toBe(true);
    await long.close();
  });

  it("replaces a damaged file by a rebuild from the log, whatever part of it is damaged", async () => {
    const dir = tempDir();
    const log = await writeWorkspace(dir, 36, 2_000);
    await (await openProjection(dir, log)).close();
    const file = join(dir, "projections.db");
    const pristine = readFileSync(file);
    // Garbage over the header (not a database any more), then over pages in the middle of the file.
    const damages: Array<[string, (b: Buffer) => void]> = [
      ["header", (b) => b.fill(0x5a, 0, 100)],
      ["pages", (b) => { for (let i = 8_192; i < b.length - 8_192; i += 7) b[i]! ^= 0x5a; }],
    ];
    for (const [where, damage] of damages) {
      const bytes = Buffer.from(pristine);
      damage(bytes);
      writeFileSync(file, bytes);
      const projection = await openProjection(dir, log);
      expect(projection.rebuilt, where).toBe("damaged");
      expect(projection.seq).toBe(log.head());
      expect(projection.db.pragma("integrity_check", { simple: true })).toBe("ok");
      await projection.close();
      expect(checkProjection(dir, log).ok, where).toBe(true);
    }
    await log.close();
  });

  it("rebuilds when the projector version changes", async () => {
    const dir = tempDir();
    const log = await writeWorkspace(dir, 33, 500);
    await (await openProjection(dir, log)).close();
    const again = await openProjection(dir, log);
    expect(again.rebuilt).toBeUndefined();
    await again.close();
    const changed = await openProjection(dir, log, { registry: renamed("atelier@next") });
    expect(changed.rebuilt).toBe("projectors");
    expect(changed.seq).toBe(log.head());
    await changed.close();
    await log.close();
  });

  it("gives way between a rebuild's transactions when asked, and leaves nothing behind if stopped between them", async () => {
    const dir = tempDir();
    const log = await writeWorkspace(dir, 36, 3_000);
    await (await openProjection(dir, log)).close();
    const next = renamed("atelier@next");
    const worker = join(dir, "projections.db.rebuild.timeline");

    // Stopped at the third turn (a server closing meanwhile): the error surfaces, the worker stops and its file goes.
    let turns = 0;
    const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
    const stopping = async () => {
      turns++;
      if (turns === 1) await pause(200); // the worker has started and created its file
      if (turns === 3) throw new Error("closing");
    };
    await expect(openProjection(dir, log, { registry: next, batch: 250, worker: true, giveWay: stopping })).rejects.toThrow("closing");
    expect(turns).toBe(3);
    await pause(100);
    expect(existsSync(worker)).toBe(false);
    expect(existsSync(join(dir, "projections.db.rebuild"))).toBe(false);

    turns = 0;
    const giveWay = () => new Promise<void>((resolve) => setImmediate(() => (turns++, resolve())));
    const changed = await openProjection(dir, log, { registry: next, batch: 250, worker: true, giveWay });
    expect(changed.rebuilt).toBe("projectors");
    expect(turns).toBe(Math.ceil(log.head() / 250));
    expect(changed.seq).toBe(log.head());
    await changed.close();
    expect(existsSync(worker)).toBe(false);
    expect(checkProjection(dir, log, { registry: next }).ok).toBe(true);
    await log.close();
  });

  it("rebuilds when a migration that needs a replay runs, and migrates by user_version", async () => {
    const dir = tempDir();
    const log = await writeWorkspace(dir, 34, 500);
    await (await openProjection(dir, log)).close();
    const chain = [...MIGRATIONS, { sql: "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL);", replay: true }];
    const projection = await openProjection(dir, log, { migrations: chain });
    expect(projection.rebuilt).toBe("schema");
    expect(projection.db.pragma("user_version", { simple: true })).toBe(chain.length);
    expect(projection.db.prepare("SELECT count(*) FROM notes").pluck().get()).toBe(0);
    await projection.close();
    const db = openDb(join(dir, "projections.db"), "live");
    expect(migrate(db, chain)).toEqual({ from: chain.length, to: chain.length, replay: false });
    db.close();
    await log.close();
  });

  it("opens a schema-4 file (message counts in agent_stats) as schema 5, counts rebuilt into message_counts", async () => {
    const dir = tempDir();
    const log = await writeWorkspace(dir, 37, 1_500);
    const old = await openProjection(dir, log, { migrations: MIGRATIONS.slice(0, 4) });
    const before = old.db.prepare("SELECT agent, messages FROM agent_stats WHERE messages > 0 ORDER BY agent").all();
    expect(before.length).toBeGreaterThan(0);
    await old.close();
    const projection = await openProjection(dir, log);
    expect(projection.rebuilt).toBe("schema");
    const metrics = agentMetrics(projection).filter((m) => m.messages > 0).map((m) => ({ agent: m.agent, messages: m.messages }));
    expect(metrics).toEqual(before);
    await projection.close();
    expect(checkProjection(dir, log).ok).toBe(true);
    await log.close();
  });

  it("rebuilds a file newer than this build's schema", async () => {
    const dir = tempDir();
    const log = await writeWorkspace(dir, 35, 200);
    await (await openProjection(dir, log)).close();
    const db = openDb(join(dir, "projections.db"), "live");
    db.pragma("user_version = 9");
    db.close();
    const projection = await openProjection(dir, log);
    expect(projection.rebuilt).toBe("schema");
    expect(projection.db.pragma("user_version", { simple: true })).toBe(MIGRATIONS.length);
    await projection.close();
    await log.close();
  });

  it("rebuilds a projection ahead of its log (the log lost its tail), never serving events the log lacks", async () => {
    const dir = tempDir();
    const log = await writeWorkspace(dir, 36, 800);
    await (await openProjection(dir, log)).close();
    await log.close();
    const shorter = tempDir();
    const short = await writeWorkspace(shorter, 36, 300);
    await short.close();
    cpSync(join(dir, "projections.db"), join(shorter, "projections.db"));
    const reopened = await openLog(shorter, { workspace: "ws_test", catalogue: atelierCatalogue, fsync: "none" });
    const projection = await openProjection(shorter, reopened);
    expect(projection.rebuilt).toBe("ahead-of-log");
    expect(projection.seq).toBe(reopened.head());
    await projection.close();
    await reopened.close();
  });

  it("rebuilds when the event at its checkpoint is not the log's (a different history)", async () => {
    const dir = tempDir();
    const log = await writeWorkspace(dir, 37, 400);
    await (await openProjection(dir, log)).close();
    await log.close();
    const other = tempDir();
    const different = await writeWorkspace(other, 38, 600);
    cpSync(join(dir, "projections.db"), join(other, "projections.db"));
    const projection = await openProjection(other, different);
    expect(projection.rebuilt).toBe("diverged-from-log");
    await projection.close();
    expect(checkProjection(other, different).ok).toBe(true);
    await different.close();
  });
});
