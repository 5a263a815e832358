import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openWorkspace } from "@atelier/actors";
import {
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

const logBytes = (dir: string) => readdirSync(join(dir, "log")).filter((n) => n.endsWith(".jsonl")).map((n) => readFileSync(join(dir, "log", n)));

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
    const timers = ws.timers();
    expect(timers.length).toBeGreaterThan(0);
    await ws.close();
    const log = logBytes(dir);

    const primary = makeObjectStore(gcsStoreDriver({ bucket: BUCKET, apiEndpoint: gcs.endpoint, projectId: gcs.projectId }));
    const mirror = makeObjectStore(s3StoreDriver({ bucket: BUCKET, endpoint: s3.endpoint, credentials: s3.credentials }));
    const hibernated = await hibernateFolder({ workspaceDir: dir, location, primary, mirror, clock });
    expect(hibernated.mirrorError).toBeUndefined();
    expect(readdirSync(join(data, "workspaces"))).toEqual([]);

    clock.advance(60_000);
    await resumeFolder({ targetDir: dir, location, primary, mirror, holder: "host-a" });
    expect(logBytes(dir)).toEqual(log);
    const back = await open();
    expect(back.status()).toBe("hibernated");
    expect(back.state()).toEqual(state);
    expect(back.timers()).toEqual(timers);
    await back.lifecycle.resume();
    await until(() => back.status() === "active");
    await back.close();
  });
});
