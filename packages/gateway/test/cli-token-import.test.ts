import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCli } from "../src/cli/main.ts";
import { startServer } from "../src/index.ts";

const dirs: string[] = [];
const temp = () => {
  const dir = mkdtempSync(join(tmpdir(), "atelier-cli-"));
  dirs.push(dir);
  return dir;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** Runs the CLI in-process and captures what it prints. */
const cli = async (...argv: string[]) => {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { out: (l) => out.push(l), err: (l) => err.push(l), isTTY: false });
  return { code, out: out.join("\n"), err: err.join("\n") };
};

describe("atelier token", () => {
  it("creates, lists and revokes tokens in <data>/catalog.db; a revoked token is refused by the server", async () => {
    const data = temp();
    const created = await cli("token", "create", "--role", "collaborator", "--name", "ci", "--ttl", "2h", "--data", data);
    expect(created.code).toBe(0);
    const [id, role, secret] = created.out.split(" ");
    expect(role).toBe("collaborator");
    expect(secret).toMatch(/^[0-9a-f]{64}$/);
    expect((await cli("token", "list", "--data", data)).out).toMatch(new RegExp(`${id} +collaborator +ci`));
    expect((await cli("token", "create", "--role", "admin", "--data", data)).code).toBe(2);
    expect((await cli("token", "create", "--role", "viewer", "--ttl", "soon", "--data", data)).code).toBe(2);

    const server = await startServer({ dataDir: data, port: 0, webDist: null, log: () => undefined });
    try {
      const me = () => fetch(`${server.url}/api/v2/me`, { headers: { authorization: `Bearer ${secret}` } }).then((r) => r.status);
      expect(await me()).toBe(200);
      expect((await cli("token", "revoke", id!, "--data", data)).code).toBe(0);
      expect(await me()).toBe(401);
      expect((await cli("token", "revoke", id!, "--data", data)).code).toBe(1);
    } finally {
      await server.close();
    }
  });
});

const session = [
  { ts: "2026-01-31T14:23:01Z", type: "session_start", agent: "system", payload: { workspace_id: "ws_abc123" } },
  { ts: "2026-01-31T14:23:15Z", type: "agent_init", agent: "claude", payload: { model: "claude-3-opus-20240229" } },
  { ts: "2026-01-31T14:23:16Z", type: "agent_init", agent: "gemini", payload: { model: "gemini-1.5-pro" } },
  { ts: "2026-01-31T14:24:30Z", type: "user_message", agent: "user", payload: { content: "Refactor auth module" } },
  { ts: "2026-01-31T14:24:31Z", type: "file_lock_acquire", agent: "claude", payload: { file: "src/auth.ts", type: "exclusive" } },
  { ts: "2026-01-31T14:25:02Z", type: "llm_response", agent: "claude", payload: { completion_tokens: 800, cost: 0.024 } },
  { ts: "2026-01-31T14:25:03Z", type: "file_edit", agent: "claude", payload: { file: "src/auth.ts", lines_changed: 45 } },
  { ts: "2026-01-31T14:25:04Z", type: "file_lock_release", agent: "claude", payload: { file: "src/auth.ts" } },
];

describe("atelier import", () => {
  it("turns the seed's session log into a workspace timeline with the session's own timestamps", async () => {
    const data = temp();
    const file = join(data, "session.jsonl");
    writeFileSync(file, session.map((l) => JSON.stringify(l)).join("\n") + "\n");
    const result = await cli("import", file, "--data", data);
    expect(result.err).toBe("");
    expect(result.out).toMatch(/^imported 8 lines into workspace ws_abc123: \d+ events$/);

    const server = await startServer({ dataDir: data, port: 0, webDist: null, log: () => undefined });
    try {
      const host = await server.gateway.host("ws_abc123");
      const events = [...host.ws.log.read({})].filter((e) => e.ts < "2026-02-01");
      const types = events.map((e) => e.type);
      expect(types).toEqual(expect.arrayContaining(["agent.registered", "prompt.enqueued", "prompt.started", "lock.acquired", "prompt.completed", "bus.published", "lock.released"]));
      expect(events.find((e) => e.type === "lock.acquired")).toMatchObject({ ts: "2026-01-31T14:24:31.000Z", agent: "claude" });
      expect(events.find((e) => e.type === "prompt.completed")?.payload).toMatchObject({ tokensOut: 800, cost: 0.024, agent: "claude" });
      // The unanswered-by-gemini message went only to claude, who answered it.
      expect(events.filter((e) => e.type === "prompt.enqueued").map((e) => e.agent ?? (e.payload as { agent: string }).agent)).toEqual(["claude"]);
    } finally {
      await server.close();
    }
  });

  it("reports every bad line with its number and writes nothing", async () => {
    const data = temp();
    const file = join(data, "bad.jsonl");
    const lines = [
      JSON.stringify(session[1]),
      "{not json",
      JSON.stringify({ ...session[3], type: "telepathy" }),
      JSON.stringify({ ts: "2026-01-31T14:24:31Z", type: "file_lock_acquire", agent: "codex", payload: { file: "a.ts", type: "exclusive" } }),
      JSON.stringify({ ts: "yesterday", type: "user_message", agent: "user", payload: { content: "x" } }),
      JSON.stringify({ ts: "2026-01-31T14:25:04Z", type: "file_lock_release", agent: "claude", payload: { file: "never-held.ts" } }),
    ];
    writeFileSync(file, lines.join("\n"));
    const result = await cli("import", file, "--data", data);
    expect(result.code).toBe(1);
    for (const n of [2, 3, 4, 5, 6]) expect(result.err).toContain(`${file}:${n}: `);
    expect(result.err).toContain("5 bad line(s); nothing imported");
    expect(existsSync(join(data, "workspaces")) ? readdirSync(join(data, "workspaces")) : []).toEqual([]);
  });
});
