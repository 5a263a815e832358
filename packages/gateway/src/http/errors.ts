import type { ContentfulStatusCode } from "hono/utils/http-status";
import { CommandRejected } from "@atelier/actors";
import { LogFailed } from "@atelier/events";
import { ProjectionUnavailable } from "@atelier/projections";

/** An error the API answers with `{ error: { code, message, details } }`. */
export class ApiError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }

  toJSON(): { error: { code: string; message: string; details?: unknown } } {
    return { error: { code: this.code, message: this.message, ...(this.details === undefined ? {} : { details: this.details }) } };
  }
}

export const badRequest = (message: string, details?: unknown) => new ApiError(400, "bad_request", message, details);
export const unauthorized = (message = "a valid bearer token is required") => new ApiError(401, "unauthorized", message);
export const forbidden = (message: string) => new ApiError(403, "forbidden", message);
export const notFound = (message: string) => new ApiError(404, "not_found", message);
export const tooLarge = (message: string) => new ApiError(413, "too_large", message);

/** HTTP status of each refusal: state conflicts are 409, a full queue is back-pressure (429). */
const rejectionStatus: Record<CommandRejected["code"], ContentfulStatusCode> = {
  refused: 409,
  stale_runner: 409,
  not_holder: 409,
  unknown_agent: 404,
  queue_full: 429,
  unavailable: 503,
};

/** A write refused for want of space: the file system's ENOSPC or SQLite's SQLITE_FULL (a log's own failure is `LogFailed`). */
const diskFull = (error: unknown): boolean => {
  const code = (error as { code?: unknown } | null)?.code;
  return !(error instanceof LogFailed) && (code === "ENOSPC" || code === "SQLITE_FULL");
};

/** The API error for anything thrown by a handler; undefined for an unexpected failure (a 500). */
export const toApiError = (error: unknown): ApiError | undefined => {
  if (error instanceof ApiError) return error;
  if (error instanceof CommandRejected) {
    return new ApiError(rejectionStatus[error.code], error.code, error.message, {
      ...(error.entity !== undefined ? { entity: error.entity } : {}),
      ...(error.state !== undefined ? { state: error.state } : {}),
    });
  }
  if (diskFull(error)) {
    return new ApiError(507, "disk_full", `the server's disk is full, so this was not done: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (error instanceof ProjectionUnavailable) return new ApiError(503, "read_models_unavailable", error.message);
  if (error instanceof LogFailed) {
    return new ApiError(503, "log_failed", `the workspace's log could not be written, so this was not recorded (${error.reason}); the workspace is closed and reopened from its log`);
  }
  return undefined;
};
