import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { startServer } from "../src/index.ts";

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** Flips one letter inside the first line of a workspace's log: its hash no longer matches. */
const damageLog = (data: string, id: string): void => {
  const log = join(data, "workspaces", id, "log");
  const file = join(log, readdirSync(log).find((n) => n.endsWith(".jsonl"))!);
  const text = readFileSync(file, "utf8");
  const at = text.indexOf('"name":"damaged"');
  expect(at).toBeGreaterThan(0);
  writeFileSync(file, text.slice(0, at) + '"name":"Damaged"' + text.slice(at + '"name":"damaged"'.length));
};

describe("a server start", () => {
  it("listens before its workspaces are open, opens a workspace asked for at once, and serves the others when one cannot be opened", async () => {
    const data = mkdtempSync(join(tmpdir(), "atelier-start-open-"));
    dirs.push(data);
    const first = await startServer({ dataDir: data, port: 0, webDist: null, log: () => undefined });
    const ids: string[] = [];
    for (const name of ["damaged", "one", "two", "bad manifest", "gone"]) {
      const { host } = await first.gateway.createWorkspace({ name, agents: [{ agentId: "claude", vendor: "claude", model: "opus" }] });
      await host.ws.context.set("k", name, "test");
      ids.push(host.id);
    }
    const [damaged, one, two, badManifest, gone] = ids as [string, string, string, string, string];
    await first.close();
    damageLog(data, damaged);
    rmSync(join(data, "workspaces", gone), { recursive: true, force: true });
    const manifest = join(data, "workspaces", badManifest, "manifest.json");
    writeFileSync(manifest, readFileSync(manifest, "utf8").replace(/"schemaVersion": \d+/, '"schemaVersion": "one"'));

    const logs: string[] = [];
    const second = await startServer({ dataDir: data, port: 0, webDist: null, log: (line) => logs.push(line) });
    try {
      const token = second.gateway.tokens.create("owner", "owner").token;
      const get = async (path: string) => {
        const res = await fetch(`${second.url}/api/v2${path}`, { headers: { authorization: `Bearer ${token}` } });
        return { status: res.status, body: (await res.json()) as any };
      };
      // Asked for before the start has reached it, the last workspace is opened first, not missing.
      const status = await get(`/workspaces/${two}/status`);
      expect(status.status).toBe(200);
      expect(status.body.workspace).toMatchObject({ id: two, name: "two" });
      // Every workspace is listed throughout: opening, then served or unavailable.
      const listed = await get("/workspaces");
      expect(listed.body.items.map((w: { id: string }) => w.id).sort()).toEqual([...ids].sort());
      for (const w of listed.body.items) expect(["opening", "active", "idle", "unavailable"]).toContain(w.state);
      await second.gateway.ready;

      // The damaged workspace does not keep the server from starting: it is listed with why, and its routes say so.
      const after = await get("/workspaces");
      const line = after.body.items.find((w: { id: string }) => w.id === damaged);
      expect(line).toMatchObject({ state: "unavailable", name: "damaged", since: "start", error: expect.stringMatching(/log corrupted .* at seq \d+: hash does not match/) });
      const refused = await get(`/workspaces/${damaged}/timeline`);
      expect(refused.status).toBe(503);
      expect(refused.body.error).toMatchObject({ code: "unavailable", message: expect.stringContaining(`workspace ${damaged} could not be opened when the server started: log corrupted`) });
      expect(logs).toContainEqual(expect.stringMatching(new RegExp(`^workspace ${damaged}: not served, it could not be opened: log corrupted`)));
      // So is a workspace whose manifest is not one, naming the file and the field.
      expect(after.body.items.find((w: { id: string }) => w.id === badManifest)).toMatchObject({
        state: "unavailable",
        error: expect.stringMatching(new RegExp(`${badManifest}/manifest.json is not a workspace manifest: schemaVersion: .*number`)),
      });
      // And one whose folder is gone, instead of dropping out of the list.
      expect(after.body.items.find((w: { id: string }) => w.id === gone)).toMatchObject({ state: "unavailable", name: "gone", error: expect.stringMatching(/its folder .* is missing/) });
      expect((await get(`/workspaces/${gone}/status`)).status).toBe(503);
      // The others are served.
      for (const id of [one, two]) expect(after.body.items.find((w: { id: string }) => w.id === id).state).toMatch(/active|idle/);
      expect((await get(`/workspaces/${one}/status`)).body.workspace).toMatchObject({ id: one, name: "one" });
      const health = await fetch(`${second.url}/healthz`).then((r) => r.json());
      expect(health).toEqual({ ok: true, workspaces: 2, opening: 0, unavailable: 3 });
    } finally {
      await second.close();
    }
  }, 30_000);

  it("stops opening at a shutdown instead of finishing a read-model rebuild, and does not call the workspace unavailable", async () => {
    const data = mkdtempSync(join(tmpdir(), "atelier-start-open-"));
    dirs.push(data);
    const first = await startServer({ dataDir: data, port: 0, webDist: null, fsync: "none", log: () => undefined });
    const { host } = await first.gateway.createWorkspace({ name: "long", agents: [{ agentId: "claude", vendor: "claude", model: "opus" }] });
    // Enough events that opening without its read models rebuilds them (from 1,000 events on).
    await Promise.all(Array.from({ length: 1_200 }, (_, i) => host.ws.context.set(`k${i}`, "v", "test")));
    await first.close();
    const projections = join(data, "workspaces", host.id, "projections.db");
    rmSync(projections);

    const logs: string[] = [];
    const second = await startServer({ dataDir: data, port: 0, webDist: null, log: (line) => logs.push(line) });
    await second.close();
    // It stopped at its first turn: nothing was rebuilt, nothing is reported damaged.
    expect(logs.filter((line) => line.includes(host.id))).toEqual([]);
    expect(second.gateway.unavailable.size).toBe(0);
    expect(existsSync(projections)).toBe(false);

    const third = await startServer({ dataDir: data, port: 0, webDist: null, log: (line) => logs.push(line) });
    try {
      await third.gateway.ready;
      expect(logs).toContainEqual(expect.stringMatching(new RegExp(`^workspace ${host.id}: read models rebuilt from the log \\(their file was missing\\)`)));
      expect((await third.gateway.host(host.id)).projection.seq).toBe(host.head);
    } finally {
      await third.close();
    }
  }, 30_000);
});
