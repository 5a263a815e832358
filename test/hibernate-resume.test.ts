import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deadlinesOf, openWorkspace } from "@atelier/actors";
import { canonicalDump, openProjection } from "@atelier/projections";
import {
  BlobStore,
  gcsStoreDriver,
  hibernateFolder,
  makeObjectStore,
  resumeFolder,
  s3StoreDriver,
  seededRandom,
  VirtualClock,
  type WorkspaceLocation,
} from "@atelier/events";
import { startGcsServer, type GcsTestServer } from "./helpers/gcs-server.ts";
import { startS3Server, type S3TestServer } from "./helpers/s3-server.ts";

const BUCKET = "atelier-hibernate";
const location: WorkspaceLocation = { org: "org_1", team: "team_a", user: "user_x", workspace: "ws_round" };
const config = { idleTimeoutMs: 600_000, hibernateAfterMs: 1_200_000, lifetimeMs: 3_600_000, maxLifetimeMs: 7_200_000 };

let gcs: GcsTestServer;
let s3: S3TestServer;
let data: string;
beforeAll(async () => {
  [gcs, s3] = await Promise.all([startGcsServer(), startS3Server([BUCKET])]);
  data = mkdtempSync(join(tmpdir(), "atelier-hibernate-"));
});
afterAll(async () => {
  await Promise.all([gcs.stop(), s3.stop()]);
  rmSync(data, { recursive: true, force: true });
});

/** Hibernation and resume run as effects after their events commit (real fsyncs here): poll. */
const until = async (done: () => boolean) => {
  for (let i = 0; i < 500 && !done(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(done()).toBe(true);
};

/**
 * Every file under `sub` (relative path → size and sha256), in name order. Digests, not the bytes:
 * vitest's deep equality walks a Buffer index by index (~7 µs a byte), minutes for a 100k-event log.
 */
const filesUnder = (dir: string, sub: string): Map<string, string> => {
  const out = new Map<string, string>();
  for (const name of (readdirSync(join(dir, sub), { recursive: true }) as string[]).sort()) {
    const path = join(dir, sub, name);
    if (!statSync(path).isFile() || name.endsWith("writer.lock")) continue;
    const bytes = readFileSync(path);
    out.set(name, `${bytes.length} ${createHash("sha256").update(bytes).digest("hex")}`);
  }
  return out;
};

describe("hibernate → resume of a live workspace through GCS (primary) and S3 (mirror)", () => {
  it("resumes with the same log bytes, the same actor state and the same pending deadlines", async () => {
    const dir = join(data, "workspaces", location.workspace);
    const clock = new VirtualClock(Date.UTC(2026, 10, 23, 10));
    const open = () => openWorkspace(dir, { workspace: location.workspace, clock, random: seededRandom(5), fsync: "batch", config, leaseMs: 900_000 });
    const ws = await open();
    await ws.agents.register({ agentId: "claude", vendor: "claude", model: "opus" });
    await ws.locks.acquire("src/auth.ts", "claude", "exclusive");
    clock.advance(1_000);
    await ws.lifecycle.hibernate("ana");
    await until(() => ws.status() === "hibernated");
    const state = ws.state();
    // Pending (the lock's lease), but not armed while hibernated: the wake re-arms them.
    const timers = deadlinesOf(state);
    expect(timers.length).toBeGreaterThan(0);
    expect(ws.timers()).toEqual([]);
    await ws.close();
    const log = filesUnder(dir, "log");

    const primary = makeObjectStore(gcsStoreDriver({ bucket: BUCKET, apiEndpoint: gcs.endpoint, projectId: gcs.projectId }));
    const mirror = makeObjectStore(s3StoreDriver({ bucket: BUCKET, endpoint: s3.endpoint, credentials: s3.credentials }));
    const hibernated = await hibernateFolder({ workspaceDir: dir, location, primary, mirror, clock });
    expect(hibernated.mirrorError).toBeUndefined();
    expect(readdirSync(join(data, "workspaces"))).toEqual([]);

    clock.advance(60_000);
    await resumeFolder({ targetDir: dir, location, primary, mirror, holder: "host-a" });
    expect(filesUnder(dir, "log")).toEqual(log);
    const back = await open();
    expect(back.status()).toBe("hibernated");
    expect(back.state()).toEqual(state);
    expect(back.timers()).toEqual([]);
    await back.lifecycle.resume();
    await until(() => back.status() === "active");
    expect(back.timers()).toEqual(expect.arrayContaining(timers));
    await back.close();
  });

  it("a log of 100k events (ATELIER_TEST_EVENTS), blobs and a projection: byte-identical log and blobs, equal projection, actors and deadlines", { timeout: 60_000 }, async () => {
    const N_EVENTS = Number(process.env.ATELIER_TEST_EVENTS ?? 100_000);
    const where: WorkspaceLocation = { ...location, workspace: "ws_100k" };
    const dir = join(data, "workspaces", where.workspace);
    const clock = new VirtualClock(Date.UTC(2026, 10, 23, 11));
    const open = async (fsync: "none" | "batch") => {
      const ws = await openWorkspace(dir, { workspace: where.workspace, clock, random: seededRandom(8), fsync, config, leaseMs: 900_000 });
      return { ws, projection: await openProjection(dir, ws.log) };
    };
    const { ws, projection } = await open("none");
    await ws.agents.register({ agentId: "claude", vendor: "claude", model: "opus" });
    await ws.locks.acquire("src/auth.ts", "claude", "exclusive");
    const blobs = new BlobStore(dir);
    for (const body of ["a tool output", "a long message body ".repeat(5_000), "another blob"]) await blobs.put(new TextEncoder().encode(body));
    while (ws.log.head() < N_EVENTS) {
      const n = Math.min(2_000, N_EVENTS - ws.log.head());
      await Promise.all(Array.from({ length: n }, (_, i) => ws.bus.publish("chat", { text: `message ${i}: a line of chat of some ordinary length` }, { sender: "claude" })));
    }
    clock.advance(1_000);
    await ws.lifecycle.hibernate("ana");
    await until(() => ws.status() === "hibernated");
    await ws.settled();
    await until(() => projection.seq === ws.log.head());
    expect(ws.log.head()).toBeGreaterThanOrEqual(N_EVENTS);
    const state = ws.state();
    const timers = deadlinesOf(state);
    expect(timers.length).toBeGreaterThan(0);
    const dump = canonicalDump(projection.db);
    await projection.close();
    await ws.close();
    const log = filesUnder(dir, "log");
    const blobFiles = filesUnder(dir, "blobs");
    const snapshots = filesUnder(dir, "snapshots");
    expect(blobFiles.size).toBe(3);

    const primary = makeObjectStore(gcsStoreDriver({ bucket: BUCKET, apiEndpoint: gcs.endpoint, projectId: gcs.projectId }));
    const mirror = makeObjectStore(s3StoreDriver({ bucket: BUCKET, endpoint: s3.endpoint, credentials: s3.credentials }));
    const hibernated = await hibernateFolder({ workspaceDir: dir, location: where, primary, mirror, clock });
    expect(hibernated.mirrorError).toBeUndefined();
    expect(readdirSync(join(data, "workspaces"))).not.toContain(where.workspace);

    clock.advance(60_000);
    // From the mirror too: the primary is the first choice, the mirror must be just as complete.
    const fromMirror = join(data, "from-mirror");
    await resumeFolder({ targetDir: fromMirror, location: where, primary: mirror, holder: "host-b" });
    expect(filesUnder(fromMirror, "log")).toEqual(log);
    rmSync(fromMirror, { recursive: true, force: true });

    const resumed = await resumeFolder({ targetDir: dir, location: where, primary, mirror, holder: "host-a" });
    expect(resumed.from).toBe("primary");
    expect(filesUnder(dir, "log")).toEqual(log);
    expect(filesUnder(dir, "blobs")).toEqual(blobFiles);
    expect(filesUnder(dir, "snapshots")).toEqual(snapshots);
    const back = await open("batch");
    expect(canonicalDump(back.projection.db)).toBe(dump);
    expect(back.ws.status()).toBe("hibernated");
    expect(back.ws.state()).toEqual(state);
    expect(back.ws.timers()).toEqual([]);
    await back.ws.lifecycle.resume();
    await until(() => back.ws.status() === "active");
    expect(back.ws.timers()).toEqual(expect.arrayContaining(timers));
    await back.projection.close();
    await back.ws.close();
  });
});
