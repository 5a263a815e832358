import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { chance, nextInt, seededRandom } from "@atelier/events";
import { atelierCatalogue } from "@atelier/actors/machines";
import { atelierProjectors, canonicalDump, openDb, openProjection, type Projection, rebuildProjection, type Registry } from "../src/index.ts";
import { cleanup, openWorkloadLog, tempDir } from "./support/fixtures.ts";
import { Workload } from "./support/workload.ts";

afterEach(cleanup);

/** The real projectors, except that applying `seq` throws once, midway through its transaction. */
const failingOnce = (fail: Set<number>): Registry => ({
  version: atelierProjectors.version,
  project(event) {
    if (fail.delete(event.seq)) throw new Error(`injected failure at seq ${event.seq}`);
    return atelierProjectors.project(event);
  },
});

const dumpOf = (path: string): string => {
  const db = openDb(path, "readonly");
  try {
    return canonicalDump(db);
  } finally {
    db.close();
  }
};

describe("a projection maintained incrementally, through crashes and restarts, dumps byte-equal to a rebuild", () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    it(`random workspace, seed ${seed}`, async () => {
      const dir = tempDir();
      const dbPath = join(dir, "projections.db");
      const savedPath = join(dir, "older.db");
      const workload = new Workload({ seed, agents: 3 + (seed % 3), paths: 10 + seed * 3 });
      const log = await openWorkloadLog(dir, workload);
      const random = seededRandom(seed * 7919);
      const fail = new Set<number>();
      // A failure while catching up on open is a crash during recovery: the next start goes on.
      const open = () => openProjection(dir, log, { registry: failingOnce(fail), batch: nextInt(random, 1, 500) }).catch(() => undefined);
      let projection: Projection | undefined = await open();
      let saved = false;
      const crashes = { stop: 0, throw: 0, powerLoss: 0 };

      while (log.head() < 4000) {
        await log.append(workload.take(nextInt(random, 1, 40)));
        const roll = nextInt(random, 0, 99);
        if (projection === undefined) {
          // Down: the log goes on without it until it restarts and catches up.
          if (roll < 25) projection = await open();
        } else if (roll < 3) {
          crashes.stop++;
          await projection.close();
          projection = undefined;
        } else if (roll < 6) {
          // A projector throws mid-transaction on a coming event: that batch rolls back, the
          // projection stays at its checkpoint, and it is closed without finishing.
          crashes.throw++;
          fail.add(log.head() + nextInt(random, 1, 30));
          if (chance(random, 0.5)) {
            await projection.close();
            projection = undefined;
          }
        } else if (roll < 8) {
          rmSync(savedPath, { force: true });
          projection.db.exec(`VACUUM INTO '${savedPath}'`);
          saved = true;
        } else if (roll < 9 && saved) {
          // Power loss under synchronous=NORMAL: the last committed transactions are gone (F19).
          crashes.powerLoss++;
          await projection.close();
          rmSync(dbPath, { force: true });
          rebuildFrom(savedPath, dbPath);
          projection = await open();
        }
      }
      await log.append(workload.finale());
      projection ??= await open();
      projection ??= await open();
      if (projection === undefined) throw new Error("the projection does not open");
      if (projection.seq < log.head()) projection.catchUp();
      expect(projection.seq).toBe(log.head());
      expect(projection.rebuilt).toBeUndefined();
      const incremental = canonicalDump(projection.db);
      await projection.close();

      const rebuilt = join(dir, "rebuilt.db");
      rebuildProjection(rebuilt, log);
      expect(incremental).toBe(dumpOf(rebuilt));
      // The same with the timeline built by a worker thread (what large logs get).
      const rebuiltByWorker = join(dir, "rebuilt-worker.db");
      rebuildProjection(rebuiltByWorker, log, { worker: true });
      expect(incremental).toBe(dumpOf(rebuiltByWorker));
      expect(crashes.stop + crashes.throw + crashes.powerLoss).toBeGreaterThan(5);

      const types = new Set<string>();
      for (const event of log.read({})) types.add(event.type);
      const missing = atelierCatalogue.types.filter((t) => !types.has(t) && !t.startsWith("workspace.terminat") && t !== "workspace.max_lifetime_reached");
      expect(missing).toEqual([]);
      await log.close();
    });
  }
});

/** Puts an older copy of the database back in place. */
const rebuildFrom = (from: string, to: string): void => {
  const db = openDb(from, "readonly");
  try {
    db.exec(`VACUUM INTO '${to}'`);
  } finally {
    db.close();
  }
};
