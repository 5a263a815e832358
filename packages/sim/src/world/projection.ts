import Database from "better-sqlite3";
import type { EventLog } from "@atelier/events";
import { canonicalDump, migrate, openDb, Projection, readCheckpoint, type Db, type LogSource } from "@atelier/projections";

/** The log up to `seq`, frozen: what a rebuild replays. */
const prefixOf = (log: LogSource, seq: number) => ({
  head: () => seq,
  read: (r: { from?: number; to?: number }) => log.read({ from: r.from ?? 1, to: Math.min(r.to ?? seq, seq) }),
  onCommit: () => () => undefined,
});

/** Builds a projection of the log's first `seq` events from nothing and returns its canonical dump. */
export const rebuiltDump = async (log: LogSource, seq: number): Promise<string> => {
  const db = openDb(":memory:", "live");
  migrate(db);
  const p = new Projection(db, prefixOf(log, seq), {}, undefined);
  const dump = canonicalDump(db);
  await p.close();
  return dump;
};

/**
 * The workspace's SQLite projection, real better-sqlite3 (synchronous, so deterministic) on an
 * in-memory database. Its durability is modelled: `image` is what the file would hold after the
 * last WAL checkpoint. A process crash loses no committed transaction; a power loss under
 * WAL+synchronous=NORMAL may lose those since the checkpoint (F19), so it reverts to `image`.
 */
export class ProjectionHost {
  private image: Buffer | undefined;
  projection: Projection | undefined;

  /** Opens over `log`; returns why the stored file could not be caught up, if it could not (I8). */
  open(log: EventLog): string | undefined {
    let db: Db = this.image ? new Database(this.image) : openDb(":memory:", "live");
    migrate(db);
    const cp = readCheckpoint(db);
    let stale: string | undefined;
    if (cp && cp.seq > log.head()) stale = `projection checkpoint ${cp.seq} is ahead of the log head ${log.head()}`;
    else if (cp && cp.seq > 0 && [...log.read({ from: cp.seq, to: cp.seq })][0]?.hash !== cp.hash) stale = `projection checkpoint ${cp.seq} names an event the log does not hold`;
    if (stale) {
      db.close();
      db = openDb(":memory:", "live");
      migrate(db);
    }
    this.projection = new Projection(db, log, {}, undefined);
    return stale;
  }

  /** A WAL checkpoint: what has been applied so far survives a power loss. */
  checkpoint(): void {
    if (this.projection?.db.open) this.image = this.projection.db.serialize();
  }

  async stop(kind: "process" | "power"): Promise<void> {
    if (kind === "process") this.checkpoint();
    await this.projection?.close();
    this.projection = undefined;
  }

  dump(): string | undefined {
    return this.projection?.db.open ? canonicalDump(this.projection.db) : undefined;
  }
}
