import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openLog } from "@atelier/events";
import { atelierCatalogue } from "@atelier/actors/machines";
import { atelierProjectors, checkProjection, openDb, openProjection, readCheckpoint, type Registry } from "../src/index.ts";
import { cleanup, emptyProjection, tempDir, writeWorkspace } from "./support/fixtures.ts";

afterEach(cleanup);

/** The checkpoint and the newest timeline row of a closed projection file. */
const inspect = (dir: string) => {
  const db = openDb(join(dir, "projections.db"), "readonly");
  try {
    return { checkpoint: readCheckpoint(db)!.seq, lastRow: db.prepare("SELECT max(seq) FROM timeline").pluck().get() as number | null };
  } finally {
    db.close();
  }
};

const throwingAt = (seq: number): Registry => ({
  version: atelierProjectors.version,
  project(event) {
    if (event.seq === seq) throw new Error("projector bug");
    return atelierProjectors.project(event);
  },
});

describe("a crash mid-catch-up leaves rows and checkpoint consistent", () => {
  it("a projector that throws mid-transaction rolls back its whole batch", async () => {
    const dir = tempDir();
    const log = await writeWorkspace(dir, 11, 2500);
    emptyProjection(dir);
    await expect(openProjection(dir, log, { batch: 1000, registry: throwingAt(2345) })).rejects.toThrow("projector bug");
    expect(inspect(dir)).toEqual({ checkpoint: 2000, lastRow: 2000 });
    expect(checkProjection(dir, log)).toMatchObject({ ok: true, seq: 2000 });

    const projection = await openProjection(dir, log);
    expect(projection.seq).toBe(log.head());
    await projection.close();
    expect(checkProjection(dir, log)).toMatchObject({ ok: true, seq: log.head() });
    await log.close();
  });

  it("SIGKILL of the process inside a transaction loses exactly that transaction", async () => {
    const dir = tempDir();
    const log = await writeWorkspace(dir, 12, 12_000);
    const head = log.head();
    await log.close();
    emptyProjection(dir);

    const child = spawnSync(process.execPath, ["--import", "tsx", join(import.meta.dirname, "support/crash-child.ts"), dir, "11111", "5000"], {
      encoding: "utf8",
    });
    expect(child.signal).toBe("SIGKILL");
    expect(inspect(dir)).toEqual({ checkpoint: 10_000, lastRow: 10_000 });

    const reopened = await openLog(dir, { workspace: "ws_test", catalogue: atelierCatalogue, fsync: "none" });
    expect(checkProjection(dir, reopened)).toMatchObject({ ok: true, seq: 10_000 });
    const projection = await openProjection(dir, reopened);
    expect(projection.rebuilt).toBeUndefined();
    expect(projection.seq).toBe(head);
    await projection.close();
    expect(checkProjection(dir, reopened)).toEqual({ ok: true, differingTables: [], seq: head });
    await reopened.close();
  });
});
