import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Schema } from "effect";
import { describeSchemaError } from "@atelier/events";
import packageJson from "../../package.json" with { type: "json" };

/** What `<data>/workspaces/<ws>/manifest.json` records about a workspace folder (DESIGN: Storage). */
const ManifestSchema = Schema.Struct({
  id: Schema.String,
  name: Schema.String,
  createdAt: Schema.String,
  schemaVersion: Schema.Number,
  appVersionCreatedWith: Schema.String,
});
export type Manifest = typeof ManifestSchema.Type;

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
  const manifest = decodeManifest(path, readFileSync(path, "utf8"));
  if (manifest.schemaVersion > FOLDER_SCHEMA_VERSION) {
    throw new Error(`${dir} was written by a newer Atelier (folder schema ${manifest.schemaVersion}, this build knows ${FOLDER_SCHEMA_VERSION})`);
  }
  return manifest;
};

/** The manifest in `text`, or an error naming the file and what is wrong with it. */
const decodeManifest = (path: string, text: string): Manifest => {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`${path} is not a workspace manifest: not valid JSON (${(error as Error).message})`);
  }
  try {
    return Schema.decodeUnknownSync(ManifestSchema)(json, { errors: "all" });
  } catch (error) {
    if (!Schema.isSchemaError(error)) throw error;
    const problems = describeSchemaError(error.message).map((p) => (p.path ? `${p.path}: ${p.issue}` : p.issue));
    throw new Error(`${path} is not a workspace manifest: ${problems.join("; ")}`);
  }
};

export const newManifest = (id: string, name: string, createdAtMs: number): Manifest => ({
  id,
  name,
  createdAt: new Date(createdAtMs).toISOString(),
  schemaVersion: FOLDER_SCHEMA_VERSION,
  appVersionCreatedWith: APP_VERSION,
});
