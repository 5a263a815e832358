import type { Queryable } from "./queryable.ts";

export interface LockHolder {
  readonly path: string;
  readonly agent: string;
  readonly mode: string;
  readonly token: number;
  readonly since: number;
  readonly expiresAt: number;
}

export interface LockWaiter {
  readonly path: string;
  readonly agent: string;
  readonly mode: string;
  readonly since: number;
  readonly leaseMs: number;
}

export interface LockInfo {
  readonly path: string;
  /** free | shared | exclusive */
  readonly state: string;
  /** The last fencing token handed out for the path. */
  readonly token: number;
  /** The earliest lease end among the holders. */
  readonly leaseExpiresAt: number | null;
  readonly holders: LockHolder[];
  /** FIFO order. */
  readonly waiters: LockWaiter[];
}

export interface DirNode {
  readonly kind: "dir";
  readonly name: string;
  readonly path: string;
  readonly children: TreeNode[];
  /** Locks held (shared or exclusive) anywhere below. */
  held: number;
  /** Agents waiting anywhere below. */
  waiting: number;
}

export interface FileNode {
  readonly kind: "file";
  readonly name: string;
  readonly path: string;
  readonly lock: LockInfo;
}

export type TreeNode = DirNode | FileNode;

const LOCKS = "SELECT path, token FROM locks ORDER BY path";
const HOLDERS = "SELECT path, agent, mode, token, since, expires_at AS expiresAt FROM lock_holders ORDER BY path, agent";
const WAITERS = "SELECT path, agent, mode, since, lease_ms AS leaseMs FROM lock_waiters ORDER BY path, queued_seq";

/** Rows grouped by their `path` column, in query order. */
const byPath = <T extends { path: string }>(rows: T[]): Map<string, T[]> => {
  const map = new Map<string, T[]>();
  for (const row of rows) {
    const list = map.get(row.path);
    if (list === undefined) map.set(row.path, [row]);
    else list.push(row);
  }
  return map;
};

/** A lock's state follows from its holders: any exclusive one, else any at all, else free. */
const stateOf = (holders: readonly LockHolder[]): string =>
  holders.some((h) => h.mode === "exclusive") ? "exclusive" : holders.length > 0 ? "shared" : "free";

const lockInfo = (path: string, token: number, holders: LockHolder[], waiters: LockWaiter[]): LockInfo => ({
  path,
  state: stateOf(holders),
  token,
  leaseExpiresAt: holders.reduce<number | null>((min, h) => (min === null || h.expiresAt < min ? h.expiresAt : min), null),
  holders,
  waiters,
});

/** Every file that was ever locked, with its holders and FIFO waiters, ordered by path. */
export const listLocks = (q: Queryable): LockInfo[] => {
  const holders = byPath(q.statement(HOLDERS).all() as LockHolder[]);
  const waiters = byPath(q.statement(WAITERS).all() as LockWaiter[]);
  return (q.statement(LOCKS).all() as Array<{ path: string; token: number }>).map(({ path, token }) =>
    lockInfo(path, token, holders.get(path) ?? [], waiters.get(path) ?? []),
  );
};

const LOCK_TOKEN = "SELECT token FROM locks WHERE path = ?";
const PATH_HOLDERS = "SELECT path, agent, mode, token, since, expires_at AS expiresAt FROM lock_holders WHERE path = ? ORDER BY agent";
const PATH_WAITERS = "SELECT path, agent, mode, since, lease_ms AS leaseMs FROM lock_waiters WHERE path = ? ORDER BY queued_seq";

/** One file's lock (free, token 0, when it was never locked). */
export const lockOf = (q: Queryable, path: string): LockInfo =>
  lockInfo(
    path,
    (q.statement(LOCK_TOKEN).get(path) as { token: number } | undefined)?.token ?? 0,
    q.statement(PATH_HOLDERS).all(path) as LockHolder[],
    q.statement(PATH_WAITERS).all(path) as LockWaiter[],
  );

/** The locks as a file tree (folders split on `/`), each folder counting the held locks and waiters below it. */
export const lockTree = (q: Queryable): DirNode => {
  const root: DirNode = { kind: "dir", name: "", path: "", children: [], held: 0, waiting: 0 };
  const dirs = new Map<string, DirNode>([["", root]]);
  for (const lock of listLocks(q)) {
    const held = lock.state === "free" ? 0 : 1;
    let dir = root;
    let start = 0;
    for (let slash = lock.path.indexOf("/"); slash !== -1; slash = lock.path.indexOf("/", start)) {
      dir.held += held;
      dir.waiting += lock.waiters.length;
      const path = lock.path.slice(0, slash);
      let next = dirs.get(path);
      if (next === undefined) {
        next = { kind: "dir", name: lock.path.slice(start, slash), path, children: [], held: 0, waiting: 0 };
        dirs.set(path, next);
        dir.children.push(next);
      }
      dir = next;
      start = slash + 1;
    }
    dir.held += held;
    dir.waiting += lock.waiters.length;
    dir.children.push({ kind: "file", name: lock.path.slice(start), path: lock.path, lock });
  }
  return root;
};
