import { createWriteStream } from "node:fs";
import * as fs from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { cryptoRandom } from "../services/crypto-random.ts";
import { randomId, type Random } from "../services/random.ts";
import { fsyncPath } from "../storage/node.ts";
import { NotFound, PreconditionFailed, Rejected, Unavailable } from "./errors.ts";
import type { ObjectBody, ObjectInfo, ObjectStoreDriver, PutOptions } from "./object-store.ts";

/** Uploads are written here first, so a crash never leaves half an object under its key. */
const TEMP_DIR = ".atelier-upload";

/** Errors the disk may get over (full, busy, too many open files) versus ones it will not. */
const TRANSIENT = new Set(["ENOSPC", "EIO", "EMFILE", "ENFILE", "EBUSY", "EAGAIN"]);

export interface LocalStoreOptions {
  /** Names the temp files. */
  readonly random?: Random;
}

/** A put retries when a racing delete removed its folder this many times in a row. */
const PUT_TRIES = 5;

/**
 * Removes the folders of `key` (deepest first) while they are empty, as a bucket has no folders: a
 * store pruned for months would otherwise keep a folder per archive. rmdir refuses a folder that is
 * not empty, so a racing put either lands first (the folder stays) or makes it again.
 */
const removeEmptyFolders = async (root: string, key: string): Promise<void> => {
  const segments = key.split("/");
  for (let depth = segments.length - 1; depth > 0; depth--) {
    try {
      await fs.rmdir(join(root, ...segments.slice(0, depth)));
    } catch {
      return; // not empty, or already gone
    }
  }
};

/**
 * A folder as an object store, the embedded default. Keys map to paths under `root`; a create is
 * atomic (a hard link fails when the name exists) and every write is fsynced with its folder.
 * Unlike a bucket, a folder cannot hold both `a` and `a/b`: such a put is Rejected.
 */
export const localStoreDriver = (root: string, options: LocalStoreOptions = {}): ObjectStoreDriver => {
  const name = `local:${root}`;
  const random = options.random ?? cryptoRandom();

  const pathOf = (key: string, op: string): string => {
    const segments = key.split("/");
    const bad = key === "" || key.includes("\\") || key.includes("\0") || segments[0] === TEMP_DIR ||
      segments.some((s) => s === "" || s === "." || s === "..");
    if (bad) throw new Rejected({ store: name, op, key, reason: "not a valid object key" });
    return join(root, ...segments);
  };

  const classify = (op: string, key: string, error: unknown): Error => {
    const code = (error as NodeJS.ErrnoException).code ?? "";
    if (code === "ENOENT" || code === "EISDIR") return new NotFound({ store: name, key });
    if (code === "EEXIST") return new PreconditionFailed({ store: name, key });
    if (TRANSIENT.has(code)) return new Unavailable({ store: name, op, key, reason: code, cause: error });
    if (code === "ABORT_ERR") return new Unavailable({ store: name, op, key, reason: "aborted", cause: error });
    return new Rejected({ store: name, op, key, reason: code || String(error), cause: error });
  };

  const attempt = async <A>(op: string, key: string, fn: () => Promise<A>): Promise<A> => {
    try {
      return await fn();
    } catch (error) {
      throw error instanceof Rejected ? error : classify(op, key, error);
    }
  };

  const info = async (key: string, path: string): Promise<ObjectInfo> => {
    const stat = await fs.stat(path, { bigint: true });
    if (!stat.isFile()) throw Object.assign(new Error("not a file"), { code: "ENOENT" });
    return { key, size: Number(stat.size), version: `${stat.mtimeNs}-${stat.size}`, sha256: undefined };
  };

  const writeTemp = async (body: ObjectBody, signal: AbortSignal): Promise<string> => {
    const dir = join(root, TEMP_DIR);
    await fs.mkdir(dir, { recursive: true });
    const temp = join(dir, randomId(random, "put-"));
    if (body instanceof Uint8Array) await fs.writeFile(temp, body, { signal });
    // A file is copied whole (copy_file_range: no chunks through the process).
    else if (body.path !== undefined) await fs.copyFile(body.path, temp);
    else await pipeline(body.open(), createWriteStream(temp), { signal });
    await fsyncPath(temp);
    return temp;
  };

  const walk = async (dir: string, keyPrefix: string, out: string[]): Promise<void> => {
    let entries;
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT" || (error as NodeJS.ErrnoException).code === "ENOTDIR") return;
      throw error;
    }
    for (const entry of entries) {
      if (keyPrefix === "" && entry.name === TEMP_DIR) continue;
      const key = keyPrefix + entry.name;
      if (entry.isDirectory()) await walk(join(dir, entry.name), `${key}/`, out);
      else if (entry.isFile()) out.push(key);
    }
  };

  return {
    name,
    put: (key, body, options: PutOptions, signal) =>
      attempt("put", key, async () => {
        const path = pathOf(key, "put");
        const temp = await writeTemp(body, signal);
        try {
          const dir = join(path, "..");
          // A delete removes the folders it empties, maybe this one between the mkdir and the link: make it again.
          for (let tries = 1; ; tries++) {
            await fs.mkdir(dir, { recursive: true });
            try {
              // link refuses an existing name atomically; rename replaces it atomically.
              if (options.ifNoneMatch) await fs.link(temp, path);
              else await fs.rename(temp, path);
              break;
            } catch (error) {
              if ((error as NodeJS.ErrnoException).code !== "ENOENT" || tries === PUT_TRIES) throw error;
            }
          }
          await fsyncPath(dir);
          return await info(key, path);
        } finally {
          await fs.rm(temp, { force: true });
        }
      }),
    open: (key, signal) =>
      attempt("open", key, async () => {
        const path = pathOf(key, "open");
        await info(key, path);
        const handle = await fs.open(path, "r");
        const stream: Readable = handle.createReadStream();
        signal.addEventListener("abort", () => stream.destroy(signal.reason as Error), { once: true });
        return stream;
      }),
    download: (key, target) =>
      attempt("download", key, async () => {
        const path = pathOf(key, "download");
        await info(key, path);
        await fs.copyFile(path, target);
      }),
    head: (key) => attempt("head", key, async () => info(key, pathOf(key, "head"))),
    list: (prefix) =>
      attempt("list", prefix, async () => {
        // Walk from the deepest folder the prefix names, then keep keys that really start with it.
        const cut = prefix.lastIndexOf("/") + 1;
        const base = prefix.slice(0, cut);
        const keys: string[] = [];
        await walk(base === "" ? root : pathOf(base.slice(0, -1), "list"), base, keys);
        const found = keys.filter((k) => k.startsWith(prefix)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
        return Promise.all(found.map((k) => info(k, pathOf(k, "list"))));
      }),
    delete: (key) =>
      attempt("delete", key, async () => {
        const path = pathOf(key, "delete");
        // A folder at the key is a prefix of other objects, not an object: nothing to delete.
        await fs.unlink(path).catch((error: NodeJS.ErrnoException) => {
          if (error.code !== "ENOENT" && error.code !== "EISDIR" && error.code !== "EPERM") throw error;
        });
        await removeEmptyFolders(root, key);
      }),
  };
};
