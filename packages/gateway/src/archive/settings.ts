import { hostname } from "node:os";
import { join } from "node:path";
import {
  gcsStoreDriver,
  localStoreDriver,
  makeObjectStore,
  s3StoreDriver,
  type ObjectStoreShape,
  type RetryPolicy,
  type WorkspaceLocation,
} from "@atelier/events";
import { wholeNumber } from "../cli/command.ts";

/**
 * Where hibernated workspaces go: the primary store, an optional mirror, and the org/team/user
 * parts of the seed's bucket layout (`organizations/{org}/teams/{team}/users/{user}/workspaces/{ws}/`).
 */
export interface ArchiveSettings {
  readonly primary: ObjectStoreShape;
  readonly mirror?: ObjectStoreShape;
  readonly org: string;
  readonly team: string;
  readonly user: string;
  /** Written into resume claims (I17); stable across restarts of one host. Default: the host name. */
  readonly holder?: string;
  /** Archives of a workspace kept in each store after a hibernation; older ones are pruned. Absent: all kept. */
  readonly keepArchives?: number;
}

/** The newest archive plus one to fall back on by hand; the folder's snapshots keep two as well. */
export const DEFAULT_KEEP_ARCHIVES = 2;

/** `atelier start|hibernate|resume|archive` flags; each falls back to its environment variable. */
export interface ArchiveFlags {
  readonly "gcs-bucket"?: string | undefined;
  readonly "gcs-endpoint"?: string | undefined;
  readonly "gcs-project"?: string | undefined;
  readonly "s3-bucket"?: string | undefined;
  readonly "s3-endpoint"?: string | undefined;
  readonly "s3-region"?: string | undefined;
  readonly "archive-dir"?: string | undefined;
  readonly org?: string | undefined;
  readonly team?: string | undefined;
  readonly user?: string | undefined;
  readonly "keep-archives"?: string | undefined;
}

/** The flags as node:util parseArgs options, for every command that reaches the archive. */
export const archiveFlagOptions = {
  "gcs-bucket": { type: "string" },
  "gcs-endpoint": { type: "string" },
  "gcs-project": { type: "string" },
  "s3-bucket": { type: "string" },
  "s3-endpoint": { type: "string" },
  "s3-region": { type: "string" },
  "archive-dir": { type: "string" },
  org: { type: "string" },
  team: { type: "string" },
  user: { type: "string" },
  "keep-archives": { type: "string" },
} as const;

const ENV: Record<keyof ArchiveFlags, string> = {
  "gcs-bucket": "ATELIER_GCS_BUCKET",
  "gcs-endpoint": "ATELIER_GCS_ENDPOINT",
  "gcs-project": "ATELIER_GCS_PROJECT",
  "s3-bucket": "ATELIER_S3_BUCKET",
  "s3-endpoint": "ATELIER_S3_ENDPOINT",
  "s3-region": "ATELIER_S3_REGION",
  "archive-dir": "ATELIER_ARCHIVE_DIR",
  org: "ATELIER_ORG",
  team: "ATELIER_TEAM",
  user: "ATELIER_USER",
  "keep-archives": "ATELIER_KEEP_ARCHIVES",
};


/**
 * Builds the stores: GCS is the primary when `ATELIER_GCS_BUCKET` (or `--gcs-bucket`) is set, with
 * S3/R2 as its mirror when `ATELIER_S3_BUCKET` is set too; S3 alone is the primary; neither means
 * the embedded default, a local folder `<data>/archive` and no mirror (no cloud). Credentials come
 * from the SDKs' usual sources (GOOGLE_APPLICATION_CREDENTIALS / ADC; AWS_* variables, profiles).
 */
export const archiveSettings = (dataDir: string, flags: ArchiveFlags = {}, env: NodeJS.ProcessEnv = process.env, policy?: RetryPolicy): ArchiveSettings => {
  const get = (k: keyof ArchiveFlags): string | undefined => {
    const v = flags[k] ?? env[ENV[k]];
    return v === undefined || v === "" ? undefined : v;
  };
  const gcsBucket = get("gcs-bucket");
  const s3Bucket = get("s3-bucket");
  const gcs = () =>
    makeObjectStore(
      gcsStoreDriver({
        bucket: gcsBucket!,
        ...(get("gcs-endpoint") ? { apiEndpoint: get("gcs-endpoint")! } : {}),
        ...(get("gcs-project") ? { projectId: get("gcs-project")! } : {}),
      }),
      policy,
    );
  const s3 = () =>
    makeObjectStore(
      s3StoreDriver({ bucket: s3Bucket!, ...(get("s3-endpoint") ? { endpoint: get("s3-endpoint")! } : {}), ...(get("s3-region") ? { region: get("s3-region")! } : {}) }),
      policy,
    );
  const stores: Pick<ArchiveSettings, "primary" | "mirror"> =
    gcsBucket !== undefined
      ? { primary: gcs(), ...(s3Bucket !== undefined ? { mirror: s3() } : {}) }
      : s3Bucket !== undefined
        ? { primary: s3() }
        : { primary: makeObjectStore(localStoreDriver(get("archive-dir") ?? join(dataDir, "archive")), policy) };
  const keepSource = flags["keep-archives"] === undefined ? ENV["keep-archives"] : "--keep-archives";
  return {
    ...stores,
    org: get("org") ?? "local",
    team: get("team") ?? "default",
    user: get("user") ?? "owner",
    holder: hostname(),
    keepArchives: wholeNumber(keepSource, get("keep-archives"), 1) ?? DEFAULT_KEEP_ARCHIVES,
  };
};

/** A workspace's place in the bucket layout. */
export const locationOf = (settings: ArchiveSettings, workspace: string): WorkspaceLocation => ({
  org: settings.org,
  team: settings.team,
  user: settings.user,
  workspace,
});
