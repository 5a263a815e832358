import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { File, Storage } from "@google-cloud/storage";
import { NotFound, PreconditionFailed, Rejected, Unavailable } from "./errors.ts";
import { bodySha256, bodySize, type ObjectInfo, type ObjectStoreDriver } from "./object-store.ts";
import { googleStorage } from "./sdk.ts";

export interface GcsStoreOptions {
  readonly bucket: string;
  /** A JSON API endpoint other than Google's (an emulator); credentials are then not sent. */
  readonly apiEndpoint?: string;
  readonly projectId?: string;
  /** Bodies larger than this go up as resumable uploads (default 8 MiB). */
  readonly resumableThreshold?: number;
  /** A client built elsewhere (credentials, user agent); `apiEndpoint`/`projectId` are then ignored. */
  readonly storage?: Storage;
}

const TRANSIENT_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EAI_AGAIN", "ABORT_ERR"]);

/**
 * Google Cloud Storage through `@google-cloud/storage` 7.x. The library's own retries are off:
 * the one retry policy lives in `makeObjectStore`. A create sends `ifGenerationMatch: 0`, which
 * Google enforces atomically; it also checks `head` first, because the emulator the tests run
 * against ignores preconditions (the check narrows the race there, it does not close it).
 */
export const gcsStoreDriver = (options: GcsStoreOptions): ObjectStoreDriver => {
  const storage =
    options.storage ??
    new (googleStorage().Storage)({
      ...(options.apiEndpoint === undefined ? {} : { apiEndpoint: options.apiEndpoint }),
      ...(options.projectId === undefined ? {} : { projectId: options.projectId }),
      retryOptions: { autoRetry: false, maxRetries: 0 },
    });
  const bucket = storage.bucket(options.bucket);
  const name = `gcs:${options.bucket}`;
  const threshold = options.resumableThreshold ?? 8 * 1024 * 1024;

  const classify = (op: string, key: string, error: unknown): Error => {
    const status = (error as { code?: unknown }).code;
    if (status === 404) return new NotFound({ store: name, key });
    if (status === 412) return new PreconditionFailed({ store: name, key });
    const transient =
      (typeof status === "number" && (status === 408 || status === 429 || status >= 500)) ||
      (typeof status === "string" && TRANSIENT_CODES.has(status)) ||
      (error as Error).name === "AbortError";
    const reason = (error as Error).message ?? String(error);
    return transient
      ? new Unavailable({ store: name, op, key, reason, cause: error })
      : new Rejected({ store: name, op, key, reason, cause: error });
  };

  const attempt = async <A>(op: string, key: string, fn: () => Promise<A>): Promise<A> => {
    try {
      return await fn();
    } catch (error) {
      throw error instanceof NotFound || error instanceof PreconditionFailed ? error : classify(op, key, error);
    }
  };

  const toInfo = (key: string, metadata: File["metadata"]): ObjectInfo => {
    const sha256 = metadata.metadata?.["sha256"];
    return {
      key,
      size: Number(metadata.size ?? 0),
      version: String(metadata.generation ?? ""),
      sha256: typeof sha256 === "string" ? sha256 : undefined,
    };
  };

  const head = async (key: string) => toInfo(key, (await bucket.file(key).getMetadata())[0]);

  return {
    name,
    put: (key, body, putOptions, signal) =>
      attempt("put", key, async () => {
        if (putOptions.ifNoneMatch) {
          const exists = await head(key).then(() => true, (error) => (classify("head", key, error) instanceof NotFound ? false : Promise.reject(error)));
          if (exists) throw new PreconditionFailed({ store: name, key });
        }
        const file = bucket.file(key);
        const sha256 = bodySha256(body);
        const sink = file.createWriteStream({
          resumable: bodySize(body) > threshold,
          metadata: sha256 === undefined ? {} : { metadata: { sha256 } },
          ...(putOptions.ifNoneMatch ? { preconditionOpts: { ifGenerationMatch: 0 } } : {}),
        });
        const source = body instanceof Uint8Array ? Readable.from([Buffer.from(body.buffer, body.byteOffset, body.byteLength)]) : body.open();
        await pipeline(source, sink, { signal });
        return toInfo(key, file.metadata);
      }),
    open: (key, signal) =>
      attempt("open", key, async () => {
        // The read stream only sends its request once read from, so a missing object would
        // surface mid-stream; a head first reports it here and pins the generation read.
        const info = await head(key);
        const stream = bucket.file(key, { generation: Number(info.version) }).createReadStream();
        signal.addEventListener("abort", () => stream.destroy(signal.reason as Error), { once: true });
        return stream;
      }),
    head: (key) => attempt("head", key, () => head(key)),
    list: (prefix) =>
      attempt("list", prefix, async () => {
        const [files] = await bucket.getFiles({ prefix, autoPaginate: true });
        return files.map((f) => toInfo(f.name, f.metadata)).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      }),
    delete: (key) =>
      attempt("delete", key, async () => {
        await bucket.file(key).delete({ ignoreNotFound: true });
      }),
  };
};
