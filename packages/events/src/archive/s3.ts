import type { Readable } from "node:stream";
import type { S3Client, S3ClientConfig } from "@aws-sdk/client-s3";
import { NotFound, PreconditionFailed, Rejected, Unavailable } from "./errors.ts";
import { bodySha256, bodySize, type ObjectInfo, type ObjectStoreDriver } from "./object-store.ts";
import { awsS3 } from "./sdk.ts";

export interface S3StoreOptions {
  readonly bucket: string;
  /** An S3-compatible endpoint (R2, s3rver); AWS itself when absent. */
  readonly endpoint?: string;
  /** Default `auto`, which is what R2 expects. */
  readonly region?: string;
  /** Credentials; the SDK's usual sources (environment, profile) when absent. */
  readonly credentials?: S3ClientConfig["credentials"];
  /** A client built elsewhere; the options above are then ignored. */
  readonly client?: S3Client;
}

/**
 * A client for S3-compatible stores. Checksums only when required: R2 and s3rver do not speak
 * the SDK's default flexible checksums (s3rver would store the chunk framing inside the object).
 * Path-style addressing, because neither test servers nor custom endpoints have bucket DNS names.
 * The SDK's own retries are off: the one retry policy lives in `makeObjectStore`.
 */
export const s3Client = (options: Omit<S3StoreOptions, "bucket" | "client">): S3Client =>
  new (awsS3().S3Client)({
    region: options.region ?? "auto",
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
    forcePathStyle: true,
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    maxAttempts: 1,
  });

const TRANSIENT_NAMES = new Set(["TimeoutError", "AbortError", "RequestTimeout", "SlowDown", "InternalError", "ConditionalRequestConflict"]);
const TRANSIENT_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EAI_AGAIN"]);

/**
 * S3-compatible storage (the R2 mirror) through `@aws-sdk/client-s3`. A create sends
 * `If-None-Match: *`, which S3 and R2 enforce; it also checks `head` first, because s3rver
 * ignores the header (the check narrows the race there, it does not close it). One PUT carries
 * a whole object, streamed, which S3 allows up to 5 GiB.
 */
export const s3StoreDriver = (options: S3StoreOptions): ObjectStoreDriver => {
  const client = options.client ?? s3Client(options);
  const { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand } = awsS3();
  const Bucket = options.bucket;
  const name = `s3:${Bucket}`;

  const classify = (op: string, key: string, error: unknown): Error => {
    const e = error as { name?: string; code?: string; message?: string; $metadata?: { httpStatusCode?: number } };
    const status = e.$metadata?.httpStatusCode;
    if (status === 404 || e.name === "NoSuchKey" || e.name === "NotFound") return new NotFound({ store: name, key });
    if (status === 412 || e.name === "PreconditionFailed") return new PreconditionFailed({ store: name, key });
    const transient =
      (status !== undefined && (status === 408 || status === 409 || status === 429 || status >= 500)) ||
      TRANSIENT_NAMES.has(e.name ?? "") ||
      TRANSIENT_CODES.has(e.code ?? "");
    const reason = e.message || e.name || String(error);
    return transient
      ? new Unavailable({ store: name, op, key, reason, cause: error })
      : new Rejected({ store: name, op, key, reason, cause: error });
  };

  const attempt = async <A>(op: string, key: string, fn: () => Promise<A>): Promise<A> => {
    try {
      return await fn();
    } catch (error) {
      throw error instanceof PreconditionFailed ? error : classify(op, key, error);
    }
  };

  const head = async (key: string, signal: AbortSignal): Promise<ObjectInfo> => {
    const out = await client.send(new HeadObjectCommand({ Bucket, Key: key }), { abortSignal: signal });
    return { key, size: out.ContentLength ?? 0, version: out.ETag ?? "", sha256: out.Metadata?.["sha256"] };
  };

  return {
    name,
    put: (key, body, putOptions, signal) =>
      attempt("put", key, async () => {
        if (putOptions.ifNoneMatch) {
          const exists = await head(key, signal).then(() => true, (error) => (classify("head", key, error) instanceof NotFound ? false : Promise.reject(error)));
          if (exists) throw new PreconditionFailed({ store: name, key });
        }
        const sha256 = bodySha256(body);
        await client.send(
          new PutObjectCommand({
            Bucket,
            Key: key,
            Body: body instanceof Uint8Array ? body : body.open(),
            ContentLength: bodySize(body),
            ...(sha256 === undefined ? {} : { Metadata: { sha256 } }),
            ...(putOptions.ifNoneMatch ? { IfNoneMatch: "*" } : {}),
          }),
          { abortSignal: signal },
        );
        return head(key, signal);
      }),
    open: (key, signal) =>
      attempt("open", key, async () => {
        const out = await client.send(new GetObjectCommand({ Bucket, Key: key }), { abortSignal: signal });
        return out.Body as Readable;
      }),
    head: (key, signal) => attempt("head", key, () => head(key, signal)),
    list: (prefix, signal) =>
      attempt("list", prefix, async () => {
        const found: ObjectInfo[] = [];
        let ContinuationToken: string | undefined;
        do {
          const page = await client.send(new ListObjectsV2Command({ Bucket, Prefix: prefix, ContinuationToken }), { abortSignal: signal });
          for (const o of page.Contents ?? []) {
            found.push({ key: o.Key ?? "", size: o.Size ?? 0, version: o.ETag ?? "", sha256: undefined });
          }
          ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
        } while (ContinuationToken !== undefined);
        return found;
      }),
    delete: (key, signal) =>
      attempt("delete", key, async () => {
        await client.send(new DeleteObjectCommand({ Bucket, Key: key }), { abortSignal: signal });
      }),
  };
};
