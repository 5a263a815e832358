/**
 * Typed errors of the log. Each carries a `_tag` so callers can switch on it, and a message
 * that says what is wrong in words a person can act on.
 */
abstract class AtelierError extends Error {
  abstract readonly _tag: string;
  override get name(): string {
    return this._tag;
  }
}

/** An event type no definition in the catalogue knows. */
export class UnknownEventType extends AtelierError {
  readonly _tag = "UnknownEventType";
  constructor(readonly type: string) {
    super(`unknown event type "${type}"`);
  }
}

/** A payload (or envelope) that does not match its schema; `path` names the field. */
export class InvalidEvent extends AtelierError {
  readonly _tag = "InvalidEvent";
  constructor(
    readonly type: string,
    readonly path: string,
    readonly issue: string,
  ) {
    super(`invalid ${type}: ${path ? `${path}: ` : ""}${issue}`);
  }
}

/** The log on disk is damaged somewhere other than a torn final line: it fails closed. */
export class LogCorrupted extends AtelierError {
  readonly _tag = "LogCorrupted";
  constructor(
    readonly file: string,
    readonly seq: number,
    readonly reason: string,
  ) {
    super(`log corrupted in ${file} at seq ${seq}: ${reason}`);
  }
}

/** Another writer holds the workspace's log. */
export class LogLocked extends AtelierError {
  readonly _tag = "LogLocked";
  constructor(
    readonly lockFile: string,
    readonly holder: string,
  ) {
    super(`log is already open for writing by ${holder} (lock file ${lockFile})`);
  }
}

/** A write or fsync failed; the log refuses further appends until it is reopened and re-verified. */
export class LogFailed extends AtelierError {
  readonly _tag = "LogFailed";
  constructor(
    readonly reason: string,
    override readonly cause?: unknown,
  ) {
    super(`log failed and must be reopened: ${reason}`);
  }
}

/** The log was closed. */
export class LogClosed extends AtelierError {
  readonly _tag = "LogClosed";
  constructor() {
    super("log is closed");
  }
}

/** An I/O error from a storage driver, with the errno-style code (EIO, ENOSPC, …). */
export class StorageError extends AtelierError {
  readonly _tag = "StorageError";
  constructor(
    readonly code: string,
    readonly op: string,
    readonly path: string,
  ) {
    super(`${code}: ${op} ${path}`);
  }
}
