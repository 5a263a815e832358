import { describe, expect, it, vi } from "vitest";

const started = vi.hoisted(() => ({ workers: 0 }));
vi.mock("node:worker_threads", async (original) => {
  const real = await original<typeof import("node:worker_threads")>();
  class CountingWorker extends real.Worker {
    constructor(...args: ConstructorParameters<typeof real.Worker>) {
      super(...args);
      started.workers++;
    }
  }
  return { ...real, Worker: CountingWorker };
});

const { canonicalDump, migrate, openDb, Projection } = await import("../src/index.ts");

// The simulator (packages/sim) keeps projections in memory; each used to start a checkpoint
// worker thread (~40 ms) that opened a second, unrelated in-memory database.
describe("an in-memory projection", () => {
  it("starts no checkpoint worker and still follows its log", async () => {
    const db = openDb(":memory:", "live");
    migrate(db);
    const projection = new Projection(db, { head: () => 0, read: () => [], onCommit: () => () => undefined }, {}, undefined);
    expect(projection.seq).toBe(0);
    expect(canonicalDump(db)).toContain("projection_checkpoint");
    await projection.close();
    expect(started.workers).toBe(0);
    expect(db.open).toBe(false);
  });
});
