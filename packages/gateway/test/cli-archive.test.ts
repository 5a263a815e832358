import { cpSync, existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCli } from "../src/cli/main.ts";
import { startServer } from "../src/index.ts";
import { serverWithWorkspace } from "./support/server.ts";

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const cli = async (...argv: string[]) => {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { out: (l) => out.push(l), err: (l) => err.push(l), isTTY: false });
  return { code, out: out.join("\n"), err: err.join("\n") };
};
const logBytes = (dir: string) =>
  Buffer.concat(readdirSync(join(dir, "log")).filter((n) => n.endsWith(".jsonl")).sort().map((n) => readFileSync(join(dir, "log", n))));

describe("atelier hibernate | resume | archive ls (local archive, the embedded default)", () => {
  it("refuses while a server holds the workspace, then hibernates to <data>/archive, lists it and resumes byte for byte", async () => {
    const { data, server, host } = await serverWithWorkspace("cli");
    dirs.push(data);
    const id = host.id;
    for (let i = 0; i < 50; i++) await host.ws.context.set(`k${i}`, i, "test");
    await host.ws.prompts.enqueue("claude", { text: "later", author: "ana" });

    const refused = await cli("hibernate", id, "--data", data);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/writer lock/);
    await server.close();

    const dir = join(data, "workspaces", id);
    const before = logBytes(dir);
    const hibernated = await cli("hibernate", id, "--data", data);
    expect(hibernated.code, hibernated.err).toBe(0);
    expect(hibernated.out).toMatch(new RegExp(`hibernated ${id}: archive \\d{16}-\\S+ \\(seq \\d+\\) in local:`));
    expect(existsSync(dir)).toBe(false);
    expect(existsSync(join(data, "archive", "organizations", "local", "teams", "default", "users", "owner", "workspaces", id))).toBe(true);

    const listed = await cli("archive", "ls", id, "--data", data);
    expect(listed.code).toBe(0);
    expect(listed.out).toMatch(new RegExp(`${id} +\\d{16}-\\S+ +\\d+ +\\d+ +\\d+ +- +hibernated`));
    expect((await cli("archive", "ls", "--data", data)).out).toContain(id);

    const resumed = await cli("resume", id, "--data", data);
    expect(resumed.code, resumed.err).toBe(0);
    expect(resumed.out).toMatch(/resumed .* from the primary/);
    expect(logBytes(dir).subarray(0, before.length).equals(before)).toBe(true);

    const again = await startServer({ dataDir: data, port: 0, webDist: null, log: () => undefined });
    try {
      const back = await again.gateway.host(id);
      expect(back.ws.status()).toBe("active");
      expect(back.ws.prompts.get("claude")!.queued).toHaveLength(1);
    } finally {
      await again.close();
    }
  }, 30_000);

  it("keeps the newest archives of a workspace after each hibernation, and prunes on demand with a clear refusal of a bad count", async () => {
    const { data, server, host } = await serverWithWorkspace("prune");
    dirs.push(data);
    const id = host.id;
    await host.ws.context.set("k", 1, "test");
    await server.close();
    const archives = async () => (await cli("archive", "ls", id, "--data", data)).out.split("\n").filter((line) => line.startsWith(id));

    for (let round = 0; round < 3; round++) {
      if (round > 0) expect((await cli("resume", id, "--data", data)).code).toBe(0);
      const hibernated = await cli("hibernate", id, "--data", data);
      expect(hibernated.code, hibernated.err).toBe(0);
    }
    const kept = await archives();
    expect(kept).toHaveLength(2);

    // The older one is there to fall back on by hand: restored, verified, into a folder of its own.
    const [, olderId, olderHead] = kept[0]!.split(/\s+/);
    const aside = join(data, "older");
    const restored = await cli("archive", "restore", id, olderId!, aside, "--data", data);
    expect(restored.code, restored.err).toBe(0);
    expect(restored.out).toContain(`restored ${id} archive ${olderId} (seq ${olderHead}`);
    expect((await cli("log", "verify", aside)).out).toContain(`last seq ${olderHead}`);
    expect((await cli("archive", "restore", id, olderId!, aside, "--data", data)).err).toMatch(/already exists/);
    const notAnId = await cli("archive", "restore", id, "../x", join(data, "elsewhere"), "--data", data);
    expect(notAnId.code).toBe(2);
    expect(notAnId.err).toMatch(/not an archive id/);
    expect(existsSync(join(data, "elsewhere"))).toBe(false);

    const bad = await cli("archive", "prune", id, "--data", data, "--keep-archives", "0");
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--keep-archives must be a whole number ≥ 1, got "0"/);
    expect(await archives()).toEqual(kept);

    // Another user's archives in the same store are not this configuration's to prune.
    const users = join(data, "archive", "organizations", "local", "teams", "default", "users");
    cpSync(join(users, "owner", "workspaces", id), join(users, "other", "workspaces", "ws_foreign"), { recursive: true });
    const othersBefore = readdirSync(join(users, "other"), { recursive: true }).sort();

    const pruned = await cli("archive", "prune", "--data", data, "--keep-archives", "1");
    expect(pruned.code, pruned.err).toBe(0);
    expect(pruned.out).toMatch(new RegExp(`${id}: removed 1 archive\\(s\\), \\d+ object\\(s\\); kept \\d{16}-`));
    expect(await archives()).toEqual(kept.slice(1));
    expect(pruned.out).not.toContain("ws_foreign");
    expect(readdirSync(join(users, "other"), { recursive: true }).sort()).toEqual(othersBefore);
    expect((await cli("resume", id, "--data", data)).code).toBe(0);
  }, 60_000);
});
