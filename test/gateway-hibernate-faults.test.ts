import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { localStoreDriver, makeObjectStore, VirtualClock } from "@atelier/events";
import { startServer } from "../packages/gateway/src/server/server.ts";
import { openCatalog } from "../packages/gateway/src/catalog/catalog.ts";
import { WorkspaceCatalog } from "../packages/gateway/src/catalog/workspaces.ts";

const dirs: string[] = [];
const temp = () => {
  const d = mkdtempSync(join(tmpdir(), "atelier-hib-faults-"));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const local = (root: string) => ({ primary: makeObjectStore(localStoreDriver(root), { attempts: 1 }), org: "o", team: "t", user: "u", holder: "h" });
const until = async (what: string, done: () => boolean, ms = 10_000) => {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
};
const agents = [{ agentId: "claude", vendor: "claude" as const, model: "opus" }];

describe("gateway hibernation: timers, failures and restarts", () => {
  it("the idle and hibernate timers hibernate a workspace into the archive", async () => {
    const data = temp();
    const clock = new VirtualClock(Date.UTC(2026, 10, 23, 9));
    const server = await startServer({ dataDir: data, port: 0, webDist: null, clock, archive: local(join(data, "archive")), log: () => undefined });
    try {
      const { host } = await server.gateway.createWorkspace({ name: "idle", agents });
      const config = host.ws.actor<{ config: { idleTimeoutMs: number; hibernateAfterMs: number } }>("workspace")!.context.config;
      clock.advance(config.idleTimeoutMs + 1);
      await until("idle", () => host.ws.status() === "idle");
      clock.advance(config.hibernateAfterMs + 1);
      await until("archived", () => server.gateway.hibernated(host.id)?.state === "hibernated");
      expect(existsSync(join(data, "workspaces", host.id))).toBe(false);
      expect(server.gateway.workspaces.get(host.id)!.archive!.archiveId).toMatch(/^\d{16}-/);
    } finally {
      await server.close();
    }
  });

  it("a failing primary leaves the folder intact and served; a restart with a working store archives it", async () => {
    const data = temp();
    const broken = join(data, "not-a-folder");
    writeFileSync(broken, "x");
    const logs: string[] = [];
    const server = await startServer({ dataDir: data, port: 0, webDist: null, archive: local(broken), log: (l) => logs.push(l) });
    const { host } = await server.gateway.createWorkspace({ name: "fails", agents });
    const id = host.id;
    await host.ws.lifecycle.hibernate("ana");
    await until("hibernation failed", () => logs.some((l) => l.includes("hibernation failed, the folder is kept")));
    await until("served again", () => server.gateway.hosts.has(id));
    expect(existsSync(join(data, "workspaces", id, "manifest.json"))).toBe(true);
    expect(server.gateway.workspaces.get(id)!.state).toBe("open");
    await server.close();

    const again = await startServer({ dataDir: data, port: 0, webDist: null, archive: local(join(data, "archive")), log: () => undefined });
    try {
      await until("archived on restart", () => again.gateway.hibernated(id)?.state === "hibernated");
      expect(existsSync(join(data, "workspaces", id))).toBe(false);
      const back = await again.gateway.resume(id);
      expect(back.ws.status()).toBe("active");
    } finally {
      await again.close();
    }
  });

  it("a start removes what a crash left beside the workspaces: a wipe's renamed folder, a restore's or a dead import's staging folder", async () => {
    const data = temp();
    const workspaces = join(data, "workspaces");
    // A pid that is no process: one past the kernel's highest.
    const dead = Number(readFileSync("/proc/sys/kernel/pid_max", "utf8")) + 1;
    const leftovers = [".ws_a.hibernated-0000000000000009-20261124T000000000Z", ".ws_b.restoring-k1ll3d", `.import-ws_c-${dead}-0badc0de`].map((name) => join(workspaces, name));
    // An import under way in a live process (this one) keeps its folder.
    const importing = join(workspaces, `.import-ws_d-${process.pid}-c0ffee00`);
    for (const dir of [...leftovers, importing]) mkdirSync(join(dir, "log"), { recursive: true });
    const server = await startServer({ dataDir: data, port: 0, webDist: null, log: () => undefined });
    try {
      for (const dir of leftovers) expect(existsSync(dir), dir).toBe(false);
      expect(existsSync(importing)).toBe(true);
    } finally {
      await server.close();
    }
  });

  it("a crash after the wipe but before the catalogue said hibernated: listed as hibernated and resumable", async () => {
    const data = temp();
    const archive = local(join(data, "archive"));
    const server = await startServer({ dataDir: data, port: 0, webDist: null, archive, log: () => undefined });
    const { host } = await server.gateway.createWorkspace({ name: "crash", agents });
    const id = host.id;
    await host.ws.lifecycle.hibernate("ana");
    await until("archived", () => server.gateway.hibernated(id)?.state === "hibernated");
    await server.close();
    const db = openCatalog(join(data, "catalog.db"));
    new WorkspaceCatalog(db).setState(id, "hibernating");
    db.close();

    const again = await startServer({ dataDir: data, port: 0, webDist: null, archive, log: () => undefined });
    try {
      expect(again.gateway.hibernated(id)?.state).toBe("hibernated");
      expect((await again.gateway.resume(id)).ws.status()).toBe("active");
    } finally {
      await again.close();
    }
  });
});
