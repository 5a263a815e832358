import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import packageJson from "../../package.json" with { type: "json" };

/** What `<data>/workspaces/<ws>/manifest.json` records about a workspace folder (DESIGN: Storage). */
export interface Manifest {
  readonly id: string;
  readonly name: string;
  readonly createdAt: string;
  readonly schemaVersion: number;
  readonly appVersionCreatedWith: string;
}

/** Bumped when the folder layout changes in a way an older build cannot read. */
export const FOLDER_SCHEMA_VERSION = 1;
export const APP_VERSION: string = packageJson.version;

export const workspacesDir = (dataDir: string): string => join(dataDir, "workspaces");
export const workspaceDir = (dataDir: string, id: string): string => join(workspacesDir(dataDir), id);

/** Writes the manifest atomically (temp file + rename), so a crash never leaves half of one. */
export const writeManifest = (dir: string, manifest: Manifest): void => {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, "manifest.json");
  writeFileSync(`${path}.tmp`, `${JSON.stringify(manifest, null, 2)}\n`);
  renameSync(`${path}.tmp`, path);
};

export const readManifest = (dir: string): Manifest | undefined => {
  const path = join(dir, "manifest.json");
  if (!existsSync(path)) return undefined;
  const manifest = JSON.parse(readFileSync(path, "utf8")) as Manifest;
  if (manifest.schemaVersion > FOLDER_SCHEMA_VERSION) {
    throw new Error(`${dir} was written by a newer Atelier (folder schema ${manifest.schemaVersion}, this build knows ${FOLDER_SCHEMA_VERSION})`);
  }
  return manifest;
};

export const newManifest = (id: string, name: string, createdAtMs: number): Manifest => ({
  id,
  name,
  createdAt: new Date(createdAtMs).toISOString(),
  schemaVersion: FOLDER_SCHEMA_VERSION,
  appVersionCreatedWith: APP_VERSION,
});
