import type { Db } from "../db/open.ts";

/** What the projection has applied: the last seq and its hash, and the projector logic that applied it. */
export interface Checkpoint {
  readonly seq: number;
  readonly hash: string;
  readonly projectors: string;
}

export const readCheckpoint = (db: Db): Checkpoint | undefined =>
  db.prepare("SELECT seq, hash, projectors FROM projection_checkpoint WHERE id = 1").get() as Checkpoint | undefined;

export const CHECKPOINT_SQL =
  "INSERT INTO projection_checkpoint (id, seq, hash, projectors) VALUES (1, ?, ?, ?) " +
  "ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, projectors = excluded.projectors";
