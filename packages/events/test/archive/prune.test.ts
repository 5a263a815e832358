import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  ArchiveRefused,
  hibernateFolder,
  listArchives,
  localStoreDriver,
  makeObjectStore,
  objectStoreClient,
  openLog,
  pruneArchives,
  readManifest,
  Rejected,
  resumeFolder,
  VirtualClock,
  workspacePrefix,
  type HibernateStep,
  type ObjectStoreDriver,
  type ObjectStoreShape,
  type WorkspaceLocation,
} from "../../src/index.ts";
import { note, tempDir, testCatalogue } from "../helpers.ts";
import { freshLocation, makeWorkspace } from "./fixture.ts";

const fast = { baseDelayMs: 1, attempts: 2 };
const enc = new TextEncoder();

/** Every key under the workspace's prefix, relative to it. */
const keysOf = async (store: ObjectStoreShape, location: WorkspaceLocation): Promise<string[]> => {
  const prefix = workspacePrefix(location);
  return (await objectStoreClient(store).list(prefix)).map((o) => o.key.slice(prefix.length));
};

/** What the kept archives may leave in a store: their manifests, parts and claims, and blobs. */
const expectOnlyKept = async (store: ObjectStoreShape, location: WorkspaceLocation, kept: readonly string[]) => {
  const allowed = new Set<string>();
  for (const id of kept) {
    allowed.add(`archives/${id}/manifest.json`);
    allowed.add(`claims/${id}`);
    for (const part of (await readManifest(store, location, id)).parts) allowed.add(part.key);
  }
  for (const key of await keysOf(store, location)) expect(allowed.has(key) || key.startsWith("blobs/"), key).toBe(true);
};

/**
 * A workspace hibernated and resumed `cycles` times, appending between cycles (so its last
 * segment, a content-addressed part, changes every time), archives all kept.
 */
const hibernatedCycles = async (cycles: number) => {
  const location = freshLocation();
  const clock = new VirtualClock(Date.parse("2026-02-01T02:00:00Z"));
  const root = join(tempDir(), "primary");
  const primary = makeObjectStore(localStoreDriver(root), fast);
  const dir = join(tempDir(), "ws");
  (await makeWorkspace(dir, location, 400)).db.close();
  const ids: string[] = [];
  for (let cycle = 0; cycle < cycles; cycle++) {
    if (cycle > 0) {
      await resumeFolder({ targetDir: dir, location, primary, holder: "host-a" });
      const log = await openLog(dir, { workspace: location.workspace, catalogue: testCatalogue, clock, fsync: "none" });
      await log.append(Array.from({ length: 50 }, (_, i) => note(`cycle ${cycle} note ${i}`)));
      await log.close();
    }
    clock.advance(60_000);
    ids.push((await hibernateFolder({ workspaceDir: dir, location, primary, clock })).archiveId);
  }
  return { location, clock, root, primary, dir, ids };
};

describe("pruning a workspace's archives", () => {
  it("keeps the newest archives whole and removes everything only the older ones used", async () => {
    const s = await hibernatedCycles(4);
    const before = await keysOf(s.primary, s.location);
    const oldSegments = (await readManifest(s.primary, s.location, s.ids[0]!)).parts.filter((p) => p.kind === "segment").map((p) => p.key);
    const newest = new Set((await readManifest(s.primary, s.location, s.ids[3]!)).parts.map((p) => p.key));
    expect(oldSegments.some((key) => !newest.has(key)), "the first archive's last segment was superseded").toBe(true);

    const pruned = await pruneArchives({ store: s.primary, location: s.location, keep: 2 });
    expect(pruned.kept).toEqual(s.ids.slice(2));
    expect(pruned.removed).toEqual(s.ids.slice(0, 2));
    expect((await listArchives(s.primary, s.location)).map((e) => e.archiveId)).toEqual(s.ids.slice(2));
    await expectOnlyKept(s.primary, s.location, s.ids.slice(2));
    const after = await keysOf(s.primary, s.location);
    expect(pruned.deleted).toBe(before.length - after.length);
    for (const key of oldSegments) expect(after.includes(key), key).toBe(newest.has(key) || key.startsWith("blobs/"));
    // Shared sealed segments stay, and the newest archive still resumes whole.
    expect(oldSegments.filter((key) => newest.has(key)).length).toBeGreaterThan(0);
    const restored = await resumeFolder({ targetDir: join(tempDir(), "back"), location: s.location, primary: s.primary, holder: "host-b" });
    expect(restored.manifest.archiveId).toBe(s.ids[3]);

    // Nothing older is left: a second prune deletes nothing.
    expect((await pruneArchives({ store: s.primary, location: s.location, keep: 2 })).deleted).toBe(0);
  }, 60_000);

  it("removes what a crashed hibernation left under an older id, and leaves a newer writer's and unknown keys alone", async () => {
    const s = await hibernatedCycles(2);
    const client = objectStoreClient(s.primary);
    const prefix = workspacePrefix(s.location);
    const older = `0000000000000001-20260101T000000000Z`;
    const newer = `9999999999999999-20991231T000000000Z`;
    const stray = ["databases", "archives"].map((folder) => `${folder}/${older}/projections.db.gz`);
    const inProgress = [`databases/${newer}/projections.db.gz`, `archives/${newer}/files/manifest.json.gz`];
    const unknownSession = "sessions/2026/02/01/session_0000000000000001_0123456789abcdef.jsonl.gz";
    for (const key of [...stray, ...inProgress, unknownSession]) await client.put(prefix + key, enc.encode(key));

    const pruned = await pruneArchives({ store: s.primary, location: s.location, keep: 1 });
    expect(pruned.removed).toEqual([s.ids[0]]);
    const keys = await keysOf(s.primary, s.location);
    for (const key of stray) expect(keys, key).not.toContain(key);
    for (const key of [...inProgress, unknownSession]) expect(keys, key).toContain(key);
  }, 60_000);

  it("a hibernation's own prune of the primary also removes segments no kept manifest names; any other prune leaves them", async () => {
    const s = await hibernatedCycles(2);
    const prefix = workspacePrefix(s.location);
    // What a hibernation that failed after uploading its last segment, before its manifest, leaves.
    const orphan = "sessions/2026/02/01/session_0000000000000401_0123456789abcdef.jsonl.gz";
    const mirror = makeObjectStore(localStoreDriver(join(tempDir(), "mirror")), fast);
    for (const store of [s.primary, mirror]) await objectStoreClient(store).put(prefix + orphan, enc.encode("an orphaned segment"));

    // A prune that is not the writer cannot tell it from a hibernation's upload in flight.
    await pruneArchives({ store: s.primary, location: s.location, keep: 2 });
    expect(await keysOf(s.primary, s.location)).toContain(orphan);

    await resumeFolder({ targetDir: s.dir, location: s.location, primary: s.primary, holder: "host-a" });
    s.clock.advance(60_000);
    const third = await hibernateFolder({ workspaceDir: s.dir, location: s.location, primary: s.primary, mirror, clock: s.clock, keepArchives: 2 });
    expect(third.pruned?.primary?.removed).toEqual([s.ids[0]]);
    expect(await keysOf(s.primary, s.location)).not.toContain(orphan);
    await expectOnlyKept(s.primary, s.location, [s.ids[1]!, third.archiveId]);
    // The mirror is written by copies that may still be under way: its prune leaves them.
    expect(await keysOf(mirror, s.location)).toContain(orphan);
    const restored = await resumeFolder({ targetDir: join(tempDir(), "back"), location: s.location, primary: s.primary, holder: "host-b" });
    expect(restored.manifest.archiveId).toBe(third.archiveId);
  }, 60_000);

  it("finishes on the next run after a crash mid-prune, and ends as an uninterrupted prune would", async () => {
    const s = await hibernatedCycles(3);
    const driver = localStoreDriver(s.root);
    let deletes = 0;
    const crashing: ObjectStoreDriver = {
      ...driver,
      delete: async (key, signal) => {
        if (++deletes > 3) throw new Rejected({ store: driver.name, op: "delete", key, reason: "the process died here" });
        return driver.delete(key, signal);
      },
    };
    await expect(pruneArchives({ store: makeObjectStore(crashing, fast), location: s.location, keep: 1 })).rejects.toThrow(/died/);
    // The removed archives' manifests go last, so they are still there to name what is left.
    expect((await listArchives(s.primary, s.location)).map((e) => e.archiveId)).toEqual(s.ids);

    const pruned = await pruneArchives({ store: s.primary, location: s.location, keep: 1 });
    expect(pruned.removed).toEqual(s.ids.slice(0, 2));
    await expectOnlyKept(s.primary, s.location, s.ids.slice(2));
  }, 60_000);

  it("refuses a keep below 1, and stops when a kept manifest cannot be read, deleting nothing", async () => {
    const s = await hibernatedCycles(2);
    const before = await keysOf(s.primary, s.location);
    await expect(pruneArchives({ store: s.primary, location: s.location, keep: 0 })).rejects.toBeInstanceOf(ArchiveRefused);
    await objectStoreClient(s.primary).put(`${workspacePrefix(s.location)}archives/${s.ids[1]}/manifest.json`, enc.encode("{ not json"));
    await expect(pruneArchives({ store: s.primary, location: s.location, keep: 1 })).rejects.toThrow(/not valid UTF-8 JSON/);
    expect(await keysOf(s.primary, s.location)).toEqual(before);
  }, 60_000);

  it("runs after a hibernation that asks for it, on the primary and the mirror; a failed prune is reported, not fatal", async () => {
    const s = await hibernatedCycles(2);
    const mirror = makeObjectStore(localStoreDriver(join(tempDir(), "mirror")), fast);
    await resumeFolder({ targetDir: s.dir, location: s.location, primary: s.primary, holder: "host-a" });
    const steps: HibernateStep[] = [];
    s.clock.advance(60_000);
    const third = await hibernateFolder({
      workspaceDir: s.dir, location: s.location, primary: s.primary, mirror, clock: s.clock, keepArchives: 1, onStep: (step) => void steps.push(step),
    });
    expect(steps).toEqual(["archived", "mirrored", "wiped", "pruned"]);
    expect(third.pruned?.primary?.removed).toEqual(s.ids);
    expect(third.pruned?.mirror).toEqual({ kept: [third.archiveId], removed: [], deleted: 0 });
    await expectOnlyKept(s.primary, s.location, [third.archiveId]);

    await resumeFolder({ targetDir: s.dir, location: s.location, primary: s.primary, holder: "host-a" });
    const refusing = localStoreDriver(s.root);
    const primary = makeObjectStore({ ...refusing, delete: async (key) => Promise.reject(new Rejected({ store: refusing.name, op: "delete", key, reason: "no delete permission" })) }, fast);
    s.clock.advance(60_000);
    const fourth = await hibernateFolder({ workspaceDir: s.dir, location: s.location, primary, clock: s.clock, keepArchives: 1 });
    expect(String(fourth.pruneError)).toMatch(/no delete permission/);
    expect(existsSync(s.dir)).toBe(false);
    expect((await listArchives(s.primary, s.location)).map((e) => e.archiveId)).toEqual([third.archiveId, fourth.archiveId]);
  }, 60_000);
});
