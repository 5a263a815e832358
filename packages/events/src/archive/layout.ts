/**
 * Where a workspace's archive lives in a bucket: the layout of seed 000 §6.1,
 * `organizations/{org}/teams/{team}/users/{user}/workspaces/{ws}/`, with
 * `sessions/YYYY/MM/DD/` for the gzip'd log, `databases/` for SQLite, `blobs/` by sha256 and
 * `archives/{id}/` for each archive's manifest and remaining parts.
 */
export interface WorkspaceLocation {
  readonly org: string;
  readonly team: string;
  readonly user: string;
  readonly workspace: string;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export const workspacePrefix = (location: WorkspaceLocation): string => {
  for (const [field, value] of Object.entries(location)) {
    if (!NAME.test(value)) throw new Error(`${field} "${value}" cannot name a folder in a bucket`);
  }
  const { org, team, user, workspace } = location;
  return `organizations/${org}/teams/${team}/users/${user}/workspaces/${workspace}/`;
};

const MANIFEST_KEY = /^organizations\/([^/]+)\/teams\/([^/]+)\/users\/([^/]+)\/workspaces\/([^/]+)\/archives\/([^/]+)\/manifest\.json$/;

/** The workspace and archive a manifest key names, or undefined for any other key. */
export const parseManifestKey = (key: string): { location: WorkspaceLocation; archiveId: string } | undefined => {
  const m = MANIFEST_KEY.exec(key);
  return m ? { location: { org: m[1]!, team: m[2]!, user: m[3]!, workspace: m[4]! }, archiveId: m[5]! } : undefined;
};

/** Relative to the workspace prefix, as every key in a manifest is (so a mirror may sit elsewhere). */
export const manifestKey = (archiveId: string): string => `archives/${archiveId}/manifest.json`;

/** Archive ids sort by log head, then time: the greatest is the newest. */
export const archiveId = (head: number, createdAtMs: number): string =>
  `${String(head).padStart(16, "0")}-${new Date(createdAtMs).toISOString().replace(/[-:.]/g, "")}`;

/** A log segment, dated by its first event and named by its content, so archives share it. */
export const sessionKey = (firstTs: string, firstSeq: number, contentSha256: string): string => {
  const [y, m, d] = firstTs.slice(0, 10).split("-");
  return `sessions/${y}/${m}/${d}/session_${String(firstSeq).padStart(16, "0")}_${contentSha256.slice(0, 16)}.jsonl.gz`;
};

export const blobKey = (sha256: string): string => `blobs/${sha256}`;

export const databaseKey = (archiveId: string, name: string): string => `databases/${archiveId}/${name}.gz`;

export const archiveFileKey = (archiveId: string, path: string): string => `archives/${archiveId}/files/${path}.gz`;
