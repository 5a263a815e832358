import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { agentMetrics, checkProjection, isDamaged, openProjection, type Projection, type ProjectionOptions, ProjectionUnavailable, type LiveRebuild, timelinePage } from "../src/index.ts";
import { cleanup, openWorkloadLog, tempDir } from "./support/fixtures.ts";
import { Workload } from "./support/workload.ts";

afterEach(cleanup);

/**
 * Garbage over the pages past the first eight of the open file (the WAL folded in first), then
 * the connection's page cache dropped, so that its next reads come from the damaged file.
 */
const damage = (projection: Projection, dir: string): void => {
  projection.db.pragma("wal_checkpoint(TRUNCATE)");
  const file = join(dir, "projections.db");
  const bytes = readFileSync(file);
  for (let i = 8_192; i < bytes.length - 1_024; i += 7) bytes[i]! ^= 0x5a;
  writeFileSync(file, bytes);
  projection.db.pragma("shrink_memory");
};

const setUp = async (seed: number, options: ProjectionOptions = {}) => {
  const dir = tempDir();
  const workload = new Workload({ seed });
  const log = await openWorkloadLog(dir, workload);
  while (log.head() < 3_000) await log.append(workload.take(200));
  const repairs: LiveRebuild[] = [];
  const projection = await openProjection(dir, log, { ...options, onLiveRebuild: (r) => repairs.push(r) });
  return { dir, workload, log, projection, repairs };
};

describe("a projection whose file is found damaged while it is open", () => {
  it("is rebuilt from the log when a live apply finds it, refuses queries meanwhile, and follows the log again", async () => {
    const { dir, workload, log, projection, repairs } = await setUp(51);
    damage(projection, dir);
    await log.append(workload.take(50));
    expect(repairs[0]?.phase).toBe("started");
    expect(isDamaged((repairs[0] as { cause: unknown }).cause)).toBe(true);
    expect(() => agentMetrics(projection)).toThrow(ProjectionUnavailable);
    // The log goes on while the file is rebuilt; the rebuild's catch-up takes these too.
    await log.append(workload.take(50));
    await projection.ready;
    expect(repairs.map((r) => r.phase)).toEqual(["started", "done"]);
    expect(projection.rebuilt).toBe("damaged");
    expect(projection.seq).toBe(log.head());
    expect(projection.db.pragma("integrity_check", { simple: true })).toBe("ok");
    await log.append(workload.take(50));
    expect(projection.seq).toBe(log.head());
    expect(timelinePage(projection, { before: log.head() + 1, limit: 1 }).items[0]?.seq).toBe(log.head());
    await projection.close();
    expect(checkProjection(dir, log).ok).toBe(true);
    await log.close();
  });

  it("is rebuilt when a query finds it, through `repair` with the query's error", async () => {
    const { dir, log, projection, repairs } = await setUp(52);
    expect(projection.repair(new Error("not SQLite's damage"))).toBe(false);
    damage(projection, dir);
    let found: unknown;
    try {
      projection.db.prepare("SELECT count(*) FROM timeline").get();
    } catch (error) {
      found = error;
    }
    expect(isDamaged(found)).toBe(true);
    expect(projection.repair(found)).toBe(true);
    await projection.ready;
    expect(repairs.map((r) => r.phase)).toEqual(["started", "done"]);
    expect(timelinePage(projection, { limit: 500 }).items).toHaveLength(500);
    await projection.close();
    expect(checkProjection(dir, log).ok).toBe(true);
    await log.close();
  });

  it("stopped mid-rebuild (a shutdown's giveWay), reports the failure, closes, and leaves the damaged file for the next open to rebuild", async () => {
    let closing = false;
    const giveWay = () => (closing ? Promise.reject(new Error("closing")) : new Promise<void>((resolve) => setImmediate(resolve)));
    const { dir, workload, log, projection, repairs } = await setUp(53, { giveWay, batch: 250 });
    damage(projection, dir);
    await log.append(workload.take(20));
    expect(repairs[0]?.phase).toBe("started");
    closing = true;
    await projection.ready;
    expect(repairs.map((r) => r.phase)).toEqual(["started", "failed"]);
    expect(() => agentMetrics(projection)).toThrow("could not be rebuilt from the log: closing");
    await projection.close();
    // The damaged file stays until a rebuild replaces it; the unfinished one is gone.
    expect(readdirSync(dir).filter((name) => name.startsWith("projections.db"))).toEqual(["projections.db"]);
    const reopened = await openProjection(dir, log);
    expect(reopened.rebuilt).toBe("damaged");
    expect(reopened.seq).toBe(log.head());
    await reopened.close();
    expect(checkProjection(dir, log).ok).toBe(true);
    await log.close();
  });

  it("is rebuilt on request, its rows that differed from the log replaced, and follows the log again", async () => {
    const { dir, workload, log, projection, repairs } = await setUp(55);
    projection.db.prepare("UPDATE agents SET model = 'tampered'").run();
    expect(checkProjection(dir, log).differingTables).toEqual(["agents"]);
    const asked = projection.rebuild();
    expect(() => agentMetrics(projection)).toThrow(ProjectionUnavailable);
    await asked;
    expect(repairs).toEqual([{ phase: "started", reason: "requested" }, { phase: "done", seq: log.head() }]);
    expect(projection.rebuilt).toBe("requested");
    await log.append(workload.take(20));
    expect(projection.seq).toBe(log.head());
    await projection.close();
    expect(checkProjection(dir, log).ok).toBe(true);
    await log.close();
  });

  it("tries a failed repair again on the next commit, and on the next query", async () => {
    let failing = false;
    const giveWay = () => (failing ? Promise.reject(new Error("no space left")) : Promise.resolve());
    const { dir, workload, log, projection, repairs } = await setUp(54, { giveWay, batch: 250 });
    failing = true;
    damage(projection, dir);
    await log.append(workload.take(20));
    await projection.ready;
    expect(repairs.map((r) => r.phase)).toEqual(["started", "failed"]);
    await log.append(workload.take(20));
    await projection.ready;
    expect(repairs.map((r) => r.phase)).toEqual(["started", "failed", "started", "failed"]);
    failing = false;
    expect(() => agentMetrics(projection)).toThrow("could not be rebuilt from the log: no space left");
    await projection.ready;
    expect(repairs.map((r) => r.phase)).toEqual(["started", "failed", "started", "failed", "started", "done"]);
    expect(projection.seq).toBe(log.head());
    expect(agentMetrics(projection).length).toBeGreaterThan(0);
    await projection.close();
    expect(checkProjection(dir, log).ok).toBe(true);
    await log.close();
  });
});
