import type { Queryable } from "./queryable.ts";

export interface LockHolder {
  readonly agent: string;
  readonly mode: string;
  readonly token: number;
  readonly since: number;
  readonly expiresAt: number;
}

export interface LockWaiter {
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

const byPath = <T extends { path: string }>(rows: T[]): Map<string, Array<Omit<T, "path">>> => {
  const map = new Map<string, Array<Omit<T, "path">>>();
  for (const { path, ...rest } of rows) {
    const list = map.get(path) ?? [];
    list.push(rest);
    map.set(path, list);
  }
  return map;
};

/** A lock's state follows from its holders: any exclusive one, else any at all, else free. */
const stateOf = (holders: readonly LockHolder[]): string =>
  holders.some((h) => h.mode === "exclusive") ? "exclusive" : holders.length > 0 ? "shared" : "free";

/** Every file that was ever locked, with its holders and FIFO waiters, ordered by path. */
export const listLocks = (q: Queryable): LockInfo[] => {
  const holders = byPath(q.statement(HOLDERS).all() as Array<LockHolder & { path: string }>);
  const waiters = byPath(q.statement(WAITERS).all() as Array<LockWaiter & { path: string }>);
  return (q.statement(LOCKS).all() as Array<{ path: string; token: number }>).map(({ path, token }) => {
    const held = holders.get(path) ?? [];
    return {
      path,
      state: stateOf(held),
      token,
      leaseExpiresAt: held.length > 0 ? Math.min(...held.map((h) => h.expiresAt)) : null,
      holders: held,
      waiters: waiters.get(path) ?? [],
    };
  });
};

/** The locks as a file tree (folders split on `/`), each folder counting the held locks and waiters below it. */
export const lockTree = (q: Queryable): DirNode => {
  const root: DirNode = { kind: "dir", name: "", path: "", children: [], held: 0, waiting: 0 };
  for (const lock of listLocks(q)) {
    const parts = lock.path.split("/");
    let dir = root;
    const held = lock.state === "free" ? 0 : 1;
    for (let i = 0; i < parts.length - 1; i++) {
      dir.held += held;
      dir.waiting += lock.waiters.length;
      const path = parts.slice(0, i + 1).join("/");
      let next = dir.children.find((c): c is DirNode => c.kind === "dir" && c.path === path);
      if (next === undefined) {
        next = { kind: "dir", name: parts[i]!, path, children: [], held: 0, waiting: 0 };
        dir.children.push(next);
      }
      dir = next;
    }
    dir.held += held;
    dir.waiting += lock.waiters.length;
    dir.children.push({ kind: "file", name: parts.at(-1)!, path: lock.path, lock });
  }
  return root;
};
