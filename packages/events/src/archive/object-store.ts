import { createHash } from "node:crypto";
import { createReadStream, createWriteStream, statSync } from "node:fs";
import { rename, rm, stat } from "node:fs/promises";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { Context, Effect, Layer, Random as EffectRandom, Schedule } from "effect";
import { cryptoRandom } from "../services/crypto-random.ts";
import { nextFloat, type Random } from "../services/random.ts";
import { PreconditionFailed, Unavailable, type StoreError } from "./errors.ts";

/** What a store knows about one object. */
export interface ObjectInfo {
  readonly key: string;
  readonly size: number;
  /** Opaque version: the GCS generation, the S3 ETag, or the local file's mtime and size. */
  readonly version: string;
  /** The sha256 (hex) recorded as object metadata at upload, where the store keeps metadata. */
  readonly sha256: string | undefined;
}

/** A streamed body that can be opened again, so that a failed upload can be retried. */
export interface ObjectSource {
  readonly size: number;
  /** Recorded as object metadata when given. */
  readonly sha256?: string;
  /** The file holding the bytes, when they are in one: a driver on the same disk may copy it whole. */
  readonly path?: string;
  open(): Readable;
}

export type ObjectBody = Uint8Array | ObjectSource;

/** A file on disk as an upload body. */
export const fileSource = (path: string, sha256?: string): ObjectSource => ({
  size: statSync(path).size,
  ...(sha256 === undefined ? {} : { sha256 }),
  path,
  open: () => createReadStream(path),
});

export const bodySize = (body: ObjectBody): number => (body instanceof Uint8Array ? body.byteLength : body.size);

/** The sha256 to record for a body: computed for bytes, as given for streams. */
export const bodySha256 = (body: ObjectBody): string | undefined =>
  body instanceof Uint8Array ? createHash("sha256").update(body).digest("hex") : body.sha256;

export interface PutOptions {
  /** Create only: fail with PreconditionFailed when the key exists. */
  readonly ifNoneMatch?: boolean;
}

/**
 * What a driver implements: one attempt per call, plain promises, failures already classified
 * into the typed errors. Retries, timeouts and the Effect surface are added once, by
 * `makeObjectStore`, so every driver behaves the same under faults.
 */
export interface ObjectStoreDriver {
  /** Names the store in errors, e.g. `gcs:my-bucket`. */
  readonly name: string;
  put(key: string, body: ObjectBody, options: PutOptions, signal: AbortSignal): Promise<ObjectInfo>;
  /** A stream of the object's bytes; NotFound when there is none. */
  open(key: string, signal: AbortSignal): Promise<Readable>;
  /** Copies the object to the file `path` (optional: without it, `open` is piped to the file). */
  download?(key: string, path: string, signal: AbortSignal): Promise<void>;
  head(key: string, signal: AbortSignal): Promise<ObjectInfo>;
  /** Every object whose key starts with `prefix`, in key order. */
  list(prefix: string, signal: AbortSignal): Promise<ObjectInfo[]>;
  /** Removes the object; removing a missing one succeeds. */
  delete(key: string, signal: AbortSignal): Promise<void>;
}

export interface ObjectStoreShape {
  readonly name: string;
  put(key: string, body: ObjectBody, options?: PutOptions): Effect.Effect<ObjectInfo, StoreError>;
  /**
   * Creates the object only if the key is free. When the key already holds exactly these bytes
   * it succeeds: a retry after a lost response must not look like losing the race.
   */
  create(key: string, body: ObjectBody): Effect.Effect<ObjectInfo, StoreError>;
  get(key: string): Effect.Effect<Uint8Array, StoreError>;
  /** Opens a stream; only the opening is retried, the reader handles errors mid-stream. */
  getStream(key: string): Effect.Effect<Readable, StoreError>;
  /** Streams the object into a file (written beside it, then renamed); the whole transfer is retried. */
  download(key: string, path: string): Effect.Effect<number, StoreError>;
  head(key: string): Effect.Effect<ObjectInfo, StoreError>;
  list(prefix: string): Effect.Effect<readonly ObjectInfo[], StoreError>;
  delete(key: string): Effect.Effect<void, StoreError>;
}

/** The object store as an Effect service. */
export class ObjectStore extends Context.Service<ObjectStore, ObjectStoreShape>()("ObjectStore") {}

export interface RetryPolicy {
  /** Attempts in all, the first included (default 5). */
  readonly attempts?: number;
  /** First backoff delay; it doubles per retry, jittered ±20% (default 100 ms). */
  readonly baseDelayMs?: number;
  /** Cap on one backoff delay (default 5 s). */
  readonly maxDelayMs?: number;
  /** Per-attempt limit for requests (default 30 s). */
  readonly timeoutMs?: number;
  /** Per-attempt limit for streamed transfers: put of a stream, get, download (default 10 min). */
  readonly transferTimeoutMs?: number;
  /** Draws the jitter, so that a seeded run retries at the same instants. */
  readonly random?: Random;
}

const collect = async (stream: Readable): Promise<Uint8Array> => {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
};

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);

/** Adds retries with exponential backoff and jitter, per-attempt timeouts and the Effect surface. */
export const makeObjectStore = (driver: ObjectStoreDriver, policy: RetryPolicy = {}): ObjectStoreShape => {
  const timeoutMs = policy.timeoutMs ?? 30_000;
  const transferTimeoutMs = policy.transferTimeoutMs ?? 600_000;
  const random = policy.random ?? cryptoRandom();
  const effectRandom: EffectRandom.Random = {
    nextDoubleUnsafe: () => nextFloat(random),
    nextIntUnsafe: () => random.nextUint32(),
  };
  const schedule = Schedule.min([
    Schedule.exponential(`${policy.baseDelayMs ?? 100} millis`),
    Schedule.spaced(`${policy.maxDelayMs ?? 5_000} millis`),
  ]).pipe(Schedule.jittered);
  const attempts = policy.attempts ?? 5;

  const run = <A>(op: string, key: string, limitMs: number, attempt: (signal: AbortSignal) => Promise<A>) =>
    Effect.tryPromise({
      try: attempt,
      // Drivers classify their own failures; anything they let through is treated as transient.
      catch: (cause): StoreError =>
        isStoreError(cause) ? cause : new Unavailable({ store: driver.name, op, key, reason: String(cause), cause }),
    }).pipe(
      Effect.timeoutOrElse({
        duration: `${limitMs} millis`,
        orElse: () => Effect.fail(new Unavailable({ store: driver.name, op, key, reason: `timed out after ${limitMs} ms` })),
      }),
      Effect.retry({ schedule, times: attempts - 1, while: (error: StoreError) => error._tag === "Unavailable" }),
      Effect.provideService(EffectRandom.Random, effectRandom),
    );

  const put = (key: string, body: ObjectBody, options: PutOptions = {}) =>
    run("put", key, body instanceof Uint8Array ? timeoutMs : transferTimeoutMs, (signal) =>
      driver.put(key, body, options, signal),
    );
  const get = (key: string) => run("get", key, transferTimeoutMs, async (signal) => collect(await driver.open(key, signal)));
  const head = (key: string) => run("head", key, timeoutMs, (signal) => driver.head(key, signal));

  return {
    name: driver.name,
    put,
    create: (key, body) =>
      put(key, body, { ifNoneMatch: true }).pipe(
        Effect.catchTag("PreconditionFailed", (lost: PreconditionFailed) =>
          body instanceof Uint8Array
            ? get(key).pipe(Effect.flatMap((held) => (sameBytes(body, held) ? head(key) : Effect.fail(lost))))
            : Effect.fail(lost),
        ),
      ),
    get,
    getStream: (key) => run("open", key, timeoutMs, (signal) => driver.open(key, signal)),
    download: (key, path) =>
      run("download", key, transferTimeoutMs, async (signal) => {
        const partial = `${path}.download`;
        try {
          if (driver.download) await driver.download(key, partial, signal);
          else await pipeline(await driver.open(key, signal), createWriteStream(partial), { signal });
          const { size } = await stat(partial);
          await rename(partial, path);
          return size;
        } finally {
          await rm(partial, { force: true });
        }
      }),
    head,
    list: (prefix) => run("list", prefix, timeoutMs, (signal) => driver.list(prefix, signal)),
    delete: (key) => run("delete", key, timeoutMs, (signal) => driver.delete(key, signal)),
  };
};

const STORE_ERRORS = new Set(["NotFound", "PreconditionFailed", "Unavailable", "Rejected"]);
const isStoreError = (error: unknown): error is StoreError =>
  error instanceof Error && STORE_ERRORS.has((error as { _tag?: string })._tag ?? "");

/** A layer providing the ObjectStore service over a driver. */
export const objectStoreLayer = (driver: ObjectStoreDriver, policy?: RetryPolicy): Layer.Layer<ObjectStore> =>
  Layer.succeed(ObjectStore, makeObjectStore(driver, policy));

type Promised<F> = F extends (...args: infer A) => Effect.Effect<infer R, infer _E> ? (...args: A) => Promise<R> : never;

/** The same store for callers outside Effect (the CLI): promises that reject with the typed errors. */
export type ObjectStoreClient = { readonly name: string } & {
  readonly [K in Exclude<keyof ObjectStoreShape, "name">]: Promised<ObjectStoreShape[K]>;
};

export const objectStoreClient = (store: ObjectStoreShape): ObjectStoreClient => ({
  name: store.name,
  put: (key, body, options) => Effect.runPromise(store.put(key, body, options)),
  create: (key, body) => Effect.runPromise(store.create(key, body)),
  get: (key) => Effect.runPromise(store.get(key)),
  getStream: (key) => Effect.runPromise(store.getStream(key)),
  download: (key, path) => Effect.runPromise(store.download(key, path)),
  head: (key) => Effect.runPromise(store.head(key)),
  list: (prefix) => Effect.runPromise(store.list(prefix)),
  delete: (key) => Effect.runPromise(store.delete(key)),
});
