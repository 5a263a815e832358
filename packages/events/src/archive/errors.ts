import { Data } from "effect";

/**
 * Typed failures of object stores and archives. Only `Unavailable` is worth retrying: the others
 * say something about the request or the data that a second attempt would not change.
 */

/** No object under that key. */
export class NotFound extends Data.TaggedError("NotFound")<{ readonly store: string; readonly key: string }> {
  override get message(): string {
    return `${this.store}: no object at ${this.key}`;
  }
}

/** A conditional write lost: the object already exists (or changed since it was read). */
export class PreconditionFailed extends Data.TaggedError("PreconditionFailed")<{
  readonly store: string;
  readonly key: string;
}> {
  override get message(): string {
    return `${this.store}: precondition failed for ${this.key} (it already exists or changed)`;
  }
}

/** The store could not be reached, answered 5xx/429, or did not answer in time. Retryable. */
export class Unavailable extends Data.TaggedError("Unavailable")<{
  readonly store: string;
  readonly op: string;
  readonly key: string;
  readonly reason: string;
  readonly cause?: unknown;
}> {
  override get message(): string {
    return `${this.store}: ${this.op} ${this.key} failed: ${this.reason}`;
  }
}

/** The store refused the request for good (bad key, access denied, bucket missing, …). */
export class Rejected extends Data.TaggedError("Rejected")<{
  readonly store: string;
  readonly op: string;
  readonly key: string;
  readonly reason: string;
  readonly cause?: unknown;
}> {
  override get message(): string {
    return `${this.store}: ${this.op} ${this.key} rejected: ${this.reason}`;
  }
}

export type StoreError = NotFound | PreconditionFailed | Unavailable | Rejected;

/** An archive part (or its manifest) does not match what the manifest promises. */
export class ArchiveCorrupted extends Data.TaggedError("ArchiveCorrupted")<{
  readonly archive: string;
  readonly part: string;
  readonly reason: string;
}> {
  override get message(): string {
    return `archive ${this.archive} is corrupt at ${this.part}: ${this.reason}`;
  }
}

/** The archive was written by a newer build in a format this one cannot read. */
export class ArchiveVersionUnsupported extends Data.TaggedError("ArchiveVersionUnsupported")<{
  readonly archive: string;
  readonly version: number;
  readonly supported: number;
}> {
  override get message(): string {
    return (
      `archive ${this.archive} has format version ${this.version}, newer than the ${this.supported} ` +
      `this build reads: upgrade Atelier to open it`
    );
  }
}

/** The workspace folder cannot be archived or restored as asked (missing, target exists, …). */
export class ArchiveRefused extends Data.TaggedError("ArchiveRefused")<{ readonly reason: string }> {
  override get message(): string {
    return this.reason;
  }
}

export type ArchiveError = ArchiveCorrupted | ArchiveVersionUnsupported | ArchiveRefused;

/** A blob's bytes no longer hash to its name. */
export class BlobCorrupted extends Data.TaggedError("BlobCorrupted")<{ readonly sha256: string; readonly path: string }> {
  override get message(): string {
    return `blob ${this.sha256} at ${this.path} does not hash to its name`;
  }
}
