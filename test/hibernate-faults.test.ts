import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openWorkspace } from "@atelier/actors";
import {
  BlobStore,
  copyArchive,
  hibernateFolder,
  latestArchive,
  localStoreDriver,
  makeObjectStore,
  resumeFolder,
  seededRandom,
  verifyArchive,
  VirtualClock,
  type HibernateResult,
  type HibernateStep,
  type ObjectStoreDriver,
  type WorkspaceLocation,
} from "@atelier/events";

const location: WorkspaceLocation = { org: "o", team: "t", user: "u", workspace: "ws_faults" };
const config = { idleTimeoutMs: 600_000, hibernateAfterMs: 1_200_000, lifetimeMs: 3_600_000, maxLifetimeMs: 7_200_000 };
const clock = new VirtualClock(Date.UTC(2026, 10, 23, 12));

let root: string;
let pristine: string;
beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "atelier-hib-crash-"));
  pristine = join(root, "pristine");
  const ws = await openWorkspace(pristine, { workspace: location.workspace, clock, random: seededRandom(3), fsync: "none", config, leaseMs: 900_000 });
  await ws.agents.register({ agentId: "claude", vendor: "claude", model: "opus" });
  await ws.locks.acquire("src/auth.ts", "claude", "exclusive");
  await Promise.all(Array.from({ length: 50 }, (_, i) => ws.bus.publish("chat", { text: `message ${i}` }, { sender: "claude" })));
  await new BlobStore(pristine).put(new TextEncoder().encode("a tool output"));
  await ws.lifecycle.hibernate("ana");
  while (ws.status() !== "hibernated") await new Promise((r) => setTimeout(r, 5));
  await ws.settled();
  await ws.close();
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Relative path → sha256 of every state file (the lock file is not state). */
const digests = (dir: string): Map<string, string> =>
  new Map(
    (readdirSync(dir, { recursive: true }) as string[])
      .filter((name) => statSync(join(dir, name)).isFile() && !name.endsWith("writer.lock"))
      .sort()
      .map((name) => [name, createHash("sha256").update(readFileSync(join(dir, name))).digest("hex")]),
  );

class Crash extends Error {}
/** The store reports a driver's failure as its typed Unavailable, which keeps the cause. */
const crashed = (error: unknown): boolean => error instanceof Crash || (error as { cause?: unknown } | undefined)?.cause instanceof Crash;
type Counter = { calls: number; crashAt: number | undefined };

/**
 * A store driver whose `crashAt`-th request (counted from 0 over every method and every driver
 * sharing `counter`) throws instead of running, as if the process died there.
 */
const crashing = (inner: ObjectStoreDriver, counter: Counter): ObjectStoreDriver => {
  const step = () => {
    if (counter.calls++ === counter.crashAt) throw new Crash(`crash at request ${counter.crashAt}`);
  };
  return {
    name: inner.name,
    put: async (...args) => (step(), inner.put(...args)),
    open: async (...args) => (step(), inner.open(...args)),
    head: async (...args) => (step(), inner.head(...args)),
    list: async (...args) => (step(), inner.list(...args)),
    delete: async (...args) => (step(), inner.delete(...args)),
  };
};

/** A fresh copy of the workspace, and empty primary and mirror stores on one request counter. */
const setup = (name: string) => {
  const base = join(root, name);
  const dir = join(base, "workspaces", location.workspace);
  cpSync(pristine, dir, { recursive: true });
  const counter: Counter = { calls: 0, crashAt: undefined };
  const store = (folder: string) => makeObjectStore(crashing(localStoreDriver(join(base, folder)), counter), { attempts: 1 });
  return { base, dir, counter, primary: store("primary"), mirror: store("mirror") };
};
type Setup = ReturnType<typeof setup>;

const hibernate = (s: Setup, onStep?: (step: HibernateStep) => void) =>
  hibernateFolder({ workspaceDir: s.dir, location, primary: s.primary, mirror: s.mirror, clock, ...(onStep ? { onStep } : {}) });

/** Whether the store holds a complete archive: every part's hash and the log's chain verify. */
const complete = async (store: Setup["primary"]): Promise<boolean> => {
  const id = await latestArchive(store, location);
  return id !== undefined && verifyArchive(store, location, id).then(() => true, () => false);
};

const intact = (dir: string) => existsSync(dir) && JSON.stringify([...digests(dir)]) === JSON.stringify([...digests(pristine)]);

/** After a failed hibernation: the folder or the archive survives, and a clean retry archives and resumes it. */
const checkHibernateCrash = async (s: Setup, outcome: unknown) => {
  s.counter.crashAt = undefined;
  expect(intact(s.dir) || (await complete(s.primary))).toBe(true);
  if (outcome instanceof Error) {
    expect(intact(s.dir)).toBe(true);
    expect((await hibernate(s)).mirrorError).toBeUndefined();
  } else {
    // A mirror failure is reported, not fatal, and the copy retried; a failed probe (head) that
    // only means "send it again" leaves no trace at all.
    const { archiveId, mirrorError } = outcome as HibernateResult;
    if (mirrorError !== undefined) {
      expect(crashed(mirrorError)).toBe(true);
      await copyArchive(s.primary, s.mirror, location, archiveId);
    }
  }
  expect(existsSync(s.dir)).toBe(false);
  expect(await complete(s.mirror)).toBe(true);
  await resumeFolder({ targetDir: s.dir, location, primary: s.primary, holder: "h" });
  expect(intact(s.dir)).toBe(true);
};

describe("a crash at each step of hibernate and resume: the workspace is intact or the archive complete, and a retry completes", () => {
  it("hibernate, crashed at each store request (parts, manifest, read-back, mirror copy)", { timeout: 120_000 }, async () => {
    const clean = setup("clean");
    await hibernate(clean);
    const requests = clean.counter.calls;
    expect(requests).toBeGreaterThan(10);
    for (let k = 0; k < requests; k++) {
      const s = setup(`h${k}`);
      s.counter.crashAt = k;
      const outcome = await hibernate(s).catch((error: unknown) => error);
      if (outcome instanceof Error) expect(crashed(outcome)).toBe(true);
      await checkHibernateCrash(s, outcome);
      rmSync(s.base, { recursive: true, force: true });
    }
  });

  it("hibernate, crashed after each of its steps (archived, mirrored, wiped)", async () => {
    for (const at of ["archived", "mirrored", "wiped"] as const) {
      const s = setup(`step-${at}`);
      const outcome = await hibernate(s, (step) => {
        if (step === at) throw new Crash(`crash after ${at}`);
      }).catch((error: unknown) => error);
      expect(outcome).toBeInstanceOf(Crash);
      expect(await complete(s.primary)).toBe(true);
      expect(existsSync(s.dir)).toBe(at !== "wiped");
      if (at !== "wiped") await checkHibernateCrash(s, outcome);
    }
  });

  it("resume, crashed at each store request (claim, manifest, parts, mirror fallback): nothing half-restored, a retry restores", { timeout: 120_000 }, async () => {
    const s = setup("resume");
    await hibernate(s);
    const target = (k: number) => join(s.base, "restored", String(k));
    s.counter.calls = 0;
    await resumeFolder({ targetDir: target(-1), location, primary: s.primary, mirror: s.mirror, holder: "h" });
    const requests = s.counter.calls;
    expect(requests).toBeGreaterThan(5);
    for (let k = 0; k < requests; k++) {
      s.counter.calls = 0;
      s.counter.crashAt = k;
      const outcome = await resumeFolder({ targetDir: target(k), location, primary: s.primary, mirror: s.mirror, holder: "h" }).catch((error: unknown) => error);
      s.counter.crashAt = undefined;
      if (outcome instanceof Error) {
        expect(existsSync(target(k))).toBe(false);
        await resumeFolder({ targetDir: target(k), location, primary: s.primary, mirror: s.mirror, holder: "h" });
      }
      expect(intact(target(k))).toBe(true);
      expect(await complete(s.primary)).toBe(true);
    }
  });
});
