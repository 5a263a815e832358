import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ArchiveCorrupted,
  ArchiveRefused,
  ArchiveVersionUnsupported,
  copyArchive,
  encodeManifest,
  gcsStoreDriver,
  latestArchive,
  listArchives,
  LogCorrupted,
  localStoreDriver,
  makeObjectStore,
  manifestKey,
  NotFound,
  objectStoreClient,
  readManifest,
  Rejected,
  restoreArchive,
  s3StoreDriver,
  sha256Hex,
  VirtualClock,
  workspacePrefix,
  writeArchive,
  type ObjectStoreDriver,
  type ObjectStoreShape,
} from "../../src/index.ts";
import { startGcsServer, type GcsTestServer } from "../../../../test/helpers/gcs-server.ts";
import { startS3Server, type S3TestServer } from "../../../../test/helpers/s3-server.ts";
import { tempDir } from "../helpers.ts";
import { dumpDatabase, folderBytes, freshLocation, makeWorkspace } from "./fixture.ts";

const BUCKET = "atelier-archives";
const fast = { baseDelayMs: 1 };
const clockAt = (iso: string) => new VirtualClock(Date.parse(iso));

let s3: S3TestServer;
let gcs: GcsTestServer;
beforeAll(async () => {
  [s3, gcs] = await Promise.all([startS3Server([BUCKET]), startGcsServer()]);
});
afterAll(async () => {
  await Promise.all([s3.stop(), gcs.stop()]);
});

const drivers: Record<string, () => ObjectStoreDriver> = {
  local: () => localStoreDriver(join(tempDir(), "bucket")),
  s3: () => s3StoreDriver({ bucket: BUCKET, endpoint: s3.endpoint, credentials: s3.credentials }),
  gcs: () => gcsStoreDriver({ bucket: BUCKET, apiEndpoint: gcs.endpoint, projectId: gcs.projectId }),
};

/** A workspace folder written and archived once into a fresh local store. */
const archived = async () => {
  const location = freshLocation();
  const prefix = workspacePrefix(location);
  const root = join(tempDir(), "bucket");
  const store = makeObjectStore(localStoreDriver(root), fast);
  const dir = join(tempDir(), "ws");
  const { db } = await makeWorkspace(dir, location);
  const written = await writeArchive({ store, location, workspaceDir: dir, clock: clockAt("2026-02-01T02:00:00Z") });
  db.close();
  return { location, prefix, root, store, dir, written };
};

describe("the projection database in an archive", () => {
  it("is copied in memory when small and by online backup when not; both restore every row, the WAL's too", async () => {
    const location = freshLocation();
    const dir = join(tempDir(), "ws");
    const { db } = await makeWorkspace(dir, location, 500);
    expect(statSync(join(dir, "projections.db-wal")).size).toBeGreaterThan(0);
    const dump = dumpDatabase(join(dir, "projections.db"));
    for (const inMemoryDatabaseBytes of [undefined, 0]) {
      const store = makeObjectStore(localStoreDriver(join(tempDir(), "bucket")), fast);
      await writeArchive({ store, location, workspaceDir: dir, clock: clockAt("2026-02-01T02:00:00Z"), ...(inMemoryDatabaseBytes === undefined ? {} : { inMemoryDatabaseBytes }) });
      const target = join(tempDir(), "restored");
      await restoreArchive({ store, location, targetDir: target });
      expect(dumpDatabase(join(target, "projections.db")), `inMemoryDatabaseBytes ${inMemoryDatabaseBytes}`).toBe(dump);
    }
    db.close();
  });

  it("is archived as its own bytes once closed (its WAL folded), and restores every row", async () => {
    const location = freshLocation();
    const dir = join(tempDir(), "ws");
    (await makeWorkspace(dir, location, 500)).db.close();
    expect(existsSync(join(dir, "projections.db-wal"))).toBe(false);
    const file = readFileSync(join(dir, "projections.db"));
    const store = makeObjectStore(localStoreDriver(join(tempDir(), "bucket")), fast);
    const { manifest } = await writeArchive({ store, location, workspaceDir: dir, clock: clockAt("2026-02-01T02:00:00Z") });
    // Not opened to be copied: SQLite would have left its shared-memory file beside it.
    expect(existsSync(join(dir, "projections.db-shm"))).toBe(false);
    const part = manifest.parts.find((p) => p.path === "projections.db")!;
    expect(part.contentSha256).toBe(createHash("sha256").update(file).digest("hex"));
    const target = join(tempDir(), "restored");
    await restoreArchive({ store, location, targetDir: target });
    expect(readFileSync(join(target, "projections.db")).equals(file)).toBe(true);
    expect(dumpDatabase(join(target, "projections.db"))).toBe(dumpDatabase(join(dir, "projections.db")));
  });
});

describe("writing an archive of a damaged log", () => {
  it("refuses it, naming the seq, and commits no manifest", async () => {
    const location = freshLocation();
    const dir = join(tempDir(), "ws");
    (await makeWorkspace(dir, location, 500)).db.close();
    const segment = join(dir, "log", readdirSync(join(dir, "log")).filter((n) => n.endsWith(".jsonl")).sort()[0]!);
    const bytes = readFileSync(segment);
    const at = bytes.indexOf("event 42 ") + 1;
    bytes[at] = bytes[at] === 0x61 ? 0x62 : 0x61;
    writeFileSync(segment, bytes);
    const root = join(tempDir(), "bucket");
    const store = makeObjectStore(localStoreDriver(root), fast);
    const error = await writeArchive({ store, location, workspaceDir: dir, clock: clockAt("2026-02-01T02:00:00Z") }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LogCorrupted);
    expect(error).toMatchObject({ seq: 43 });
    expect(await listArchives(store, location)).toEqual([]);
  });
});

describe.each(Object.keys(drivers))("archive round trip through %s", (label) => {
  it("restores the log, snapshots, blobs and files byte for byte and the projections row for row", async () => {
    const location = freshLocation();
    const store = makeObjectStore(drivers[label]!(), fast);
    const dir = join(tempDir(), "ws");
    const { db, blobs } = await makeWorkspace(dir, location);
    const written = await writeArchive({ store, location, workspaceDir: dir, clock: clockAt("2026-02-01T02:00:00Z"), appVersion: "test" });
    const dump = dumpDatabase(join(dir, "projections.db"));
    db.close();

    const keys = written.manifest.parts.map((p) => p.key);
    expect(keys.some((k) => /^sessions\/2026\/01\/31\/session_0{15}1_[0-9a-f]{16}\.jsonl\.gz$/.test(k))).toBe(true);
    expect(keys.some((k) => k.startsWith("sessions/2026/02/01/"))).toBe(true);
    expect(keys).toContain(`blobs/${blobs[1]}`);
    expect(written.manifest.parts.filter((p) => p.kind === "blob")).toHaveLength(2);
    expect(written.manifest.log.head).toBe(3_000);

    const target = join(tempDir(), "restored");
    await restoreArchive({ store, location, targetDir: target });
    const before = folderBytes(dir);
    const after = folderBytes(target);
    before.delete("projections.db");
    after.delete("projections.db");
    expect([...after.keys()]).toEqual([...before.keys()]);
    for (const [path, bytes] of before) expect(after.get(path)!.equals(bytes), path).toBe(true);
    expect(dumpDatabase(join(target, "projections.db"))).toBe(dump);
  });

  it("does not send content-addressed parts again when the store can prove it holds them", async () => {
    const location = freshLocation();
    const store = makeObjectStore(drivers[label]!(), fast);
    const dir = join(tempDir(), "ws");
    (await makeWorkspace(dir, location, 500)).db.close();
    const first = await writeArchive({ store, location, workspaceDir: dir, clock: clockAt("2026-02-01T02:00:00Z") });
    const second = await writeArchive({ store, location, workspaceDir: dir, clock: clockAt("2026-02-01T03:00:00Z") });
    const shared = first.manifest.parts.filter((p) => p.kind === "segment" || p.kind === "blob").length;
    // The local folder keeps no object metadata, so it cannot prove a sha256 and copies again.
    expect(second.reused).toBe(label === "local" ? 0 : shared);
    expect((await listArchives(store, location)).map((a) => a.archiveId)).toEqual([first.archiveId, second.archiveId]);
    expect(await latestArchive(store, location)).toBe(second.archiveId);
  });
});

describe("archive verification", () => {
  const expectNothingAt = (target: string) => {
    expect(existsSync(target)).toBe(false);
    expect(readdirSync(join(target, "..")).filter((n) => n.includes("restoring"))).toEqual([]);
  };

  it("refuses an archive from a newer format version with a clear error", async () => {
    const { location, prefix, store, written } = await archived();
    const key = prefix + manifestKey(written.archiveId);
    const newer = { ...JSON.parse(new TextDecoder().decode(await objectStoreClient(store).get(key))), version: 2, newField: true };
    await objectStoreClient(store).put(key, new TextEncoder().encode(JSON.stringify(newer)));
    const target = join(tempDir(), "restored");
    const error = await restoreArchive({ store, location, targetDir: target }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ArchiveVersionUnsupported);
    expect((error as Error).message).toMatch(/format version 2, newer than the 1 this build reads: upgrade Atelier/);
    expectNothingAt(target);
  });

  it("finds a flipped byte in a stored part and opens nothing", async () => {
    const { location, prefix, root, store, written } = await archived();
    const part = written.manifest.parts.find((p) => p.kind === "segment")!;
    const path = join(root, prefix + part.key);
    const bytes = readFileSync(path);
    bytes[bytes.length >> 1]! ^= 0x01;
    writeFileSync(path, bytes);
    const target = join(tempDir(), "restored");
    const error = await restoreArchive({ store, location, targetDir: target }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ArchiveCorrupted);
    expect((error as ArchiveCorrupted).part).toBe(part.key);
    expectNothingAt(target);
  });

  it("verifies the log's hash chain even when the manifest's hashes were rewritten to match", async () => {
    const { location, prefix, root, store, written } = await archived();
    const manifest = written.manifest;
    const index = manifest.parts.findIndex((p) => p.kind === "segment");
    const part = manifest.parts[index]!;
    const path = join(root, prefix + part.key);
    const text = gunzipSync(readFileSync(path)).toString("utf8").replace('"text":"event 5 ', '"text":"event 6 ');
    const content = Buffer.from(text);
    const stored = gzipSync(content);
    writeFileSync(path, stored);
    const forged = {
      ...manifest,
      parts: manifest.parts.map((p, i) => (i === index ? { ...p, size: stored.length, sha256: sha256Hex(stored), contentSize: content.length, contentSha256: sha256Hex(content) } : p)),
    };
    await objectStoreClient(store).put(prefix + manifestKey(written.archiveId), encodeManifest(forged));
    const target = join(tempDir(), "restored");
    const error = await restoreArchive({ store, location, targetDir: target }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ArchiveCorrupted);
    expect((error as ArchiveCorrupted).message).toMatch(/at log: log corrupted .* at seq 6: hash does not match/);
    expectNothingAt(target);
  });

  it("reports a missing part and opens nothing", async () => {
    const { location, prefix, store, written } = await archived();
    const part = written.manifest.parts.find((p) => p.kind === "database")!;
    await objectStoreClient(store).delete(prefix + part.key);
    const target = join(tempDir(), "restored");
    await expect(restoreArchive({ store, location, targetDir: target })).rejects.toBeInstanceOf(NotFound);
    expectNothingAt(target);
  });

  it("never restores over an existing folder", async () => {
    const { location, store, dir } = await archived();
    await expect(restoreArchive({ store, location, targetDir: dir })).rejects.toBeInstanceOf(ArchiveRefused);
  });

  it("rejects a manifest whose identity does not match its key", async () => {
    const { location, prefix, store, written } = await archived();
    const key = prefix + manifestKey(written.archiveId);
    const other = { ...written.manifest, workspace: { ...location, workspace: "ws_other" } };
    await objectStoreClient(store).put(key, encodeManifest(other));
    await expect(readManifest(store, location, written.archiveId)).rejects.toBeInstanceOf(ArchiveCorrupted);
  });

  it("leaves no manifest when the upload fails part way, and the workspace untouched", async () => {
    const root = join(tempDir(), "bucket");
    const inner = localStoreDriver(root);
    let puts = 0;
    const failing: ObjectStoreDriver = {
      ...inner,
      put: (key, body, options, signal) =>
        ++puts > 5 ? Promise.reject(new Rejected({ store: "x", op: "put", key, reason: "injected" })) : inner.put(key, body, options, signal),
    };
    const store = makeObjectStore(failing, fast);
    const location = freshLocation();
    const dir = join(tempDir(), "ws");
    (await makeWorkspace(dir, location, 500)).db.close();
    const before = folderBytes(dir);
    await expect(writeArchive({ store, location, workspaceDir: dir })).rejects.toBeInstanceOf(Rejected);
    expect(await listArchives(store)).toEqual([]);
    expect(folderBytes(dir)).toEqual(before);
  });
});

describe("mirror copy", () => {
  it("copies an archive to another store, which restores it alone", async () => {
    const { location, store, written, dir } = await archived();
    const mirror: ObjectStoreShape = makeObjectStore(s3StoreDriver({ bucket: BUCKET, endpoint: s3.endpoint, credentials: s3.credentials }), fast);
    await copyArchive(store, mirror, location, written.archiveId);
    expect((await listArchives(mirror)).map((a) => a.archiveId)).toContain(written.archiveId);
    const target = join(tempDir(), "from-mirror");
    await restoreArchive({ store: mirror, location, archiveId: written.archiveId, targetDir: target });
    expect(readFileSync(join(target, "snapshots", "workspace.json")).equals(readFileSync(join(dir, "snapshots", "workspace.json")))).toBe(true);
  });

  it("refuses to copy a part whose bytes no longer match", async () => {
    const { location, prefix, root, store, written } = await archived();
    const part = written.manifest.parts.find((p) => p.kind === "snapshot")!;
    writeFileSync(join(root, prefix + part.key), gzipSync("{}"));
    const mirror = makeObjectStore(localStoreDriver(join(tempDir(), "mirror")), fast);
    await expect(copyArchive(store, mirror, location, written.archiveId)).rejects.toBeInstanceOf(ArchiveCorrupted);
    expect(await listArchives(mirror)).toEqual([]);
  });
});
