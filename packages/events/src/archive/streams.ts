import { createHash, type Hash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { open } from "node:fs/promises";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { gzipMembers } from "./members.ts";

/** Read and (de)compression chunk: fewer, larger chunks through the hashing and chain checks. */
const CHUNK = 1 << 20;

export interface Digest {
  readonly size: number;
  readonly sha256: string;
}

/** A pass-through that hashes and counts what flows through it. */
const meter = (tap?: (chunk: Buffer) => void) => {
  const hash = createHash("sha256");
  let size = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      // Passed on first, so the next stage ((de)compression in the thread pool) works while this
      // one hashes and `tap` checks the chunk (no stage changes a chunk it was given).
      callback(null, chunk);
      hash.update(chunk);
      size += chunk.length;
      try {
        tap?.(chunk);
      } catch (error) {
        stream.destroy(error as Error);
      }
    },
  });
  return { stream, digest: (): Digest => ({ size, sha256: hash.digest("hex") }), running: (): Hash => hash.copy() };
};

export interface Coded {
  /** The stored (possibly gzip'd) bytes. */
  readonly stored: Digest;
  /** The file's own bytes. */
  readonly content: Digest;
}

export type Encoding = "gzip" | "identity";

/** A buffer as a stream of CHUNK-sized views. */
function* chunksOf(bytes: Buffer): Generator<Buffer> {
  for (let at = 0; at < bytes.length; at += CHUNK) yield bytes.subarray(at, at + CHUNK);
}

/**
 * Copies `from` (a file, or bytes) to `to`, gzip'ing it when asked, hashing both sides in the
 * same pass; `tap` sees the file's own bytes on the way (the log's chain is verified there).
 */
export const encodeFile = async (from: string | Buffer, to: string, encoding: Encoding, level: number, tap?: (chunk: Buffer) => void): Promise<Coded> => {
  if (encoding === "gzip") return gzipMembers(from, to, level, tap);
  const content = meter(tap);
  const stored = meter();
  const input = typeof from === "string" ? createReadStream(from, { highWaterMark: CHUNK }) : Readable.from(chunksOf(from), { objectMode: false });
  await pipeline(input, content.stream, stored.stream, createWriteStream(to));
  return { stored: stored.digest(), content: content.digest() };
};

/**
 * The inverse of encodeFile: gunzips when asked, hashing both sides in the same pass. Also
 * returns the content's sha256 not yet finalised, for whoever goes on appending to the file.
 */
export const decodeFile = async (from: string, to: string, encoding: Encoding, tap?: (chunk: Buffer) => void): Promise<Coded & { readonly running: Hash }> => {
  const content = meter(tap);
  const stored = meter();
  const middle = encoding === "gzip" ? [createGunzip({ chunkSize: CHUNK })] : [];
  await pipeline(createReadStream(from, { highWaterMark: CHUNK }), stored.stream, ...middle, content.stream, createWriteStream(to));
  const running = content.running();
  return { stored: stored.digest(), content: content.digest(), running };
};

/** The size and sha256 of a file; `tap` sees its bytes on the way. */
export const hashFile = async (path: string, tap?: (chunk: Buffer) => void): Promise<Digest> => {
  const m = meter(tap);
  await pipeline(createReadStream(path, { highWaterMark: CHUNK }), m.stream, async function* (source) {
    for await (const _ of source);
  });
  return m.digest();
};

/**
 * The last line of a file (without its newline) and whether the file ends in one, reading
 * backwards no more than it needs; undefined for an empty file.
 */
export const lastLine = async (path: string): Promise<{ line: string; complete: boolean } | undefined> => {
  const handle = await open(path, "r");
  try {
    const { size } = await handle.stat();
    if (size === 0) return undefined;
    let tail = Buffer.alloc(0);
    let pos = size;
    for (;;) {
      const n = Math.min(pos, 64 * 1024);
      const buffer = Buffer.alloc(n);
      await handle.read(buffer, 0, n, pos - n);
      pos -= n;
      tail = Buffer.concat([buffer, tail]);
      const complete = tail[tail.length - 1] === 10;
      const body = complete ? tail.subarray(0, -1) : tail;
      const start = body.lastIndexOf(10);
      if (start !== -1 || pos === 0) return { line: body.subarray(start + 1).toString("utf8"), complete };
    }
  } finally {
    await handle.close();
  }
};

/** The first line of a file (without its newline), reading no more than it needs. */
export const firstLine = async (path: string, limit = 1 << 20): Promise<string | undefined> => {
  const handle = await open(path, "r");
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    while (total < limit) {
      const buffer = Buffer.alloc(16 * 1024);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, total);
      if (bytesRead === 0) return undefined;
      const chunk = buffer.subarray(0, bytesRead);
      const end = chunk.indexOf(10);
      if (end !== -1) return Buffer.concat([...chunks, chunk.subarray(0, end)]).toString("utf8");
      chunks.push(chunk);
      total += bytesRead;
    }
    return undefined;
  } finally {
    await handle.close();
  }
};

/**
 * Runs `fn` over `items` with at most `limit` at a time, keeping the results in order. After a
 * failure no new item starts, and it rethrows only once the running ones have settled, so the
 * caller may clean up without racing them.
 */
export const mapLimit = async <T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> => {
  const results = new Array<R>(items.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (failure === undefined && next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i]!, i);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure !== undefined) throw failure.error;
  return results;
};

/**
 * `mapLimit` that starts the largest items first, so the long jobs (the log's gzip, the
 * database's) are not queued behind many small ones and set the pace from the start. Results (and
 * the index `fn` sees) keep `items`' order.
 */
export const mapLargestFirst = async <T, R>(
  items: readonly T[], size: (item: T) => number, limit: number, fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> => {
  const order = items.map((_, i) => i).sort((a, b) => size(items[b]!) - size(items[a]!) || a - b);
  const done = await mapLimit(order, limit, (i) => fn(items[i]!, i));
  const results = new Array<R>(items.length);
  order.forEach((i, k) => (results[i] = done[k]!));
  return results;
};
