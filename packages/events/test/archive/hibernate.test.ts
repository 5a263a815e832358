import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  ArchiveRefused,
  hibernateFolder,
  latestArchive,
  localStoreDriver,
  makeObjectStore,
  Rejected,
  ResumeFailed,
  resumeFolder,
  verifyArchive,
  VirtualClock,
  WorkspaceClaimed,
  workspacePrefix,
  nodeStorage,
  scanLog,
  type HibernateStep,
  type ObjectStoreDriver,
  type WorkspaceLocation,
} from "../../src/index.ts";
import { tempDir } from "../helpers.ts";
import { dumpDatabase, folderBytes, freshLocation, makeWorkspace } from "./fixture.ts";

const fast = { baseDelayMs: 1, attempts: 2 };
const clock = new VirtualClock(Date.parse("2026-02-01T02:00:00Z"));

const setup = async (events = 600) => {
  const location = freshLocation();
  const primaryRoot = join(tempDir(), "primary");
  const mirrorRoot = join(tempDir(), "mirror");
  const primary = makeObjectStore(localStoreDriver(primaryRoot), fast);
  const mirror = makeObjectStore(localStoreDriver(mirrorRoot), fast);
  const dir = join(tempDir(), "ws");
  const { db } = await makeWorkspace(dir, location, events);
  const dump = dumpDatabase(join(dir, "projections.db"));
  db.close();
  const before = folderBytes(dir);
  before.delete("projections.db");
  return { location, primaryRoot, mirrorRoot, primary, mirror, dir, dump, before };
};

type Setup = Awaited<ReturnType<typeof setup>>;

const expectRestored = (s: Setup, dir: string) => {
  const after = folderBytes(dir);
  after.delete("projections.db");
  expect([...after.keys()]).toEqual([...s.before.keys()]);
  for (const [path, bytes] of s.before) expect(after.get(path)!.equals(bytes), path).toBe(true);
  expect(dumpDatabase(join(dir, "projections.db"))).toBe(s.dump);
};

/** Flips a byte of the first part of `kind` of the (only) archive in a local store's folder. */
const flipInArchive = (root: string, location: WorkspaceLocation, kind = "segment") => {
  const prefix = workspacePrefix(location);
  const archives = join(root, prefix, "archives");
  const [id] = readdirSync(archives);
  const manifest = JSON.parse(readFileSync(join(archives, id!, "manifest.json"), "utf8")) as { parts: Array<{ kind: string; key: string }> };
  const path = join(root, prefix + manifest.parts.find((p) => p.kind === kind)!.key);
  const bytes = readFileSync(path);
  bytes[bytes.length >> 1]! ^= 0x10;
  writeFileSync(path, bytes);
};

describe("hibernate and resume a workspace folder", () => {
  it("archives to the primary and the mirror, wipes the folder, and resumes it byte for byte", async () => {
    const s = await setup();
    const steps: HibernateStep[] = [];
    const result = await hibernateFolder({ workspaceDir: s.dir, location: s.location, primary: s.primary, mirror: s.mirror, clock, onStep: (step) => void steps.push(step) });
    expect(steps).toEqual(["archived", "mirrored", "wiped"]);
    expect(result.mirrorError).toBeUndefined();
    expect(existsSync(s.dir)).toBe(false);
    expect(await latestArchive(s.mirror, s.location)).toBe(result.archiveId);

    const resumed = await resumeFolder({ targetDir: s.dir, location: s.location, primary: s.primary, mirror: s.mirror, holder: "host-a" });
    expect(resumed.from).toBe("primary");
    expectRestored(s, s.dir);
    // What the restore verified is what the open would have checked: taken whole, not checked twice.
    const full = scanLog(nodeStorage(), join(s.dir, "log"), s.location.workspace);
    expect(scanLog(nodeStorage(), join(s.dir, "log"), s.location.workspace, resumed.verifiedLog)).toEqual({ ...full, vouched: full.head });
  });

  it("leaves the folder intact or a complete verified archive when it crashes at any step", async () => {
    for (const crashAt of ["upload", "archived", "mirrored", "wiped"] as const) {
      const s = await setup(300);
      const inner = localStoreDriver(s.primaryRoot);
      let puts = 0;
      const crashing: ObjectStoreDriver = {
        ...inner,
        put: (key, body, o, signal) => (crashAt === "upload" && ++puts > 3 ? Promise.reject(new Rejected({ store: "p", op: "put", key, reason: "crash" })) : inner.put(key, body, o, signal)),
      };
      const primary = makeObjectStore(crashing, fast);
      const crash = (step: HibernateStep) => {
        if (step === crashAt) throw new Error(`crash after ${step}`);
      };
      await expect(hibernateFolder({ workspaceDir: s.dir, location: s.location, primary, mirror: s.mirror, clock, onStep: crash })).rejects.toThrow();
      const intact = existsSync(s.dir);
      const archiveId = await latestArchive(s.primary, s.location);
      if (intact) expectRestored(s, s.dir);
      if (archiveId !== undefined) await verifyArchive(s.primary, s.location, archiveId);
      expect(intact || archiveId !== undefined, crashAt).toBe(true);
      expect(intact, crashAt).toBe(crashAt !== "wiped");
    }
  });

  it("reports a failing mirror without failing the hibernation", async () => {
    const s = await setup(200);
    const broken = makeObjectStore({ ...localStoreDriver(s.mirrorRoot), put: (key) => Promise.reject(new Rejected({ store: "m", op: "put", key, reason: "access denied" })) }, fast);
    const result = await hibernateFolder({ workspaceDir: s.dir, location: s.location, primary: s.primary, mirror: broken, clock });
    expect(result.mirrorError).toBeInstanceOf(Rejected);
    expect(existsSync(s.dir)).toBe(false);
  });

  it("resumes from the mirror when a byte of the primary's archive is flipped", async () => {
    const s = await setup();
    await hibernateFolder({ workspaceDir: s.dir, location: s.location, primary: s.primary, mirror: s.mirror, clock });
    flipInArchive(s.primaryRoot, s.location);
    const resumed = await resumeFolder({ targetDir: s.dir, location: s.location, primary: s.primary, mirror: s.mirror, holder: "host-a" });
    expect(resumed.from).toBe("mirror");
    expectRestored(s, s.dir);
  });

  it("opens nothing and says why when both copies are corrupt", async () => {
    const s = await setup();
    await hibernateFolder({ workspaceDir: s.dir, location: s.location, primary: s.primary, mirror: s.mirror, clock });
    flipInArchive(s.primaryRoot, s.location);
    flipInArchive(s.mirrorRoot, s.location, "database");
    const error = await resumeFolder({ targetDir: s.dir, location: s.location, primary: s.primary, mirror: s.mirror, holder: "host-a" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ResumeFailed);
    expect((error as Error).message).toMatch(/primary: archive .* is corrupt at sessions\/.*; mirror: archive .* is corrupt at databases\//);
    expect(existsSync(s.dir)).toBe(false);
  });

  it("lets exactly one of two racing hosts resume; the loser opens nothing", async () => {
    const s = await setup(200);
    await hibernateFolder({ workspaceDir: s.dir, location: s.location, primary: s.primary, clock });
    const dirs = [join(tempDir(), "host-a"), join(tempDir(), "host-b")];
    const results = await Promise.allSettled(
      dirs.map((targetDir, i) => resumeFolder({ targetDir, location: s.location, primary: s.primary, holder: `host-${i}` })),
    );
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const loser = results.findIndex((r) => r.status === "rejected");
    expect((results[loser] as PromiseRejectedResult).reason).toBeInstanceOf(WorkspaceClaimed);
    expect(existsSync(dirs[loser]!)).toBe(false);
    // The winner may retry its own resume (same holder), e.g. after a crash mid-download.
    await expect(resumeFolder({ targetDir: join(tempDir(), "again"), location: s.location, primary: s.primary, holder: `host-${1 - loser}` })).resolves.toMatchObject({ from: "primary" });
  });

  it("refuses to resume over a folder that is still there", async () => {
    const s = await setup(100);
    await expect(resumeFolder({ targetDir: s.dir, location: s.location, primary: s.primary, holder: "h" })).rejects.toBeInstanceOf(ArchiveRefused);
  });
});
