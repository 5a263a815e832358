import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openWorkspace } from "@atelier/actors";
import { atelierCatalogue } from "@atelier/actors/machines";
import { openLog } from "@atelier/events";
import { openProjection } from "@atelier/projections";

const run = promisify(execFile);
const bin = join(import.meta.dirname, "../../../node_modules/.bin/atelier");
const atelier = async (...args: string[]) => {
  try {
    const { stdout, stderr } = await run(bin, args);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
};

let dir: string;
beforeAll(async () => {
  dir = join(mkdtempSync(join(tmpdir(), "atelier-cli-proj-")), "ws_cli");
  const ws = await openWorkspace(dir, { workspace: "ws_cli" });
  await ws.locks.acquire("src/a.ts", "system", "exclusive").catch(() => undefined);
  await ws.close();
  const log = await openLog(dir, { workspace: "ws_cli", catalogue: atelierCatalogue });
  const projection = await openProjection(dir, log);
  await projection.close();
  await log.close();
});
afterAll(() => rmSync(join(dir, ".."), { recursive: true, force: true }));

describe("atelier rebuild / check", () => {
  it("rebuilds and then checks equal", async () => {
    expect((await atelier("rebuild", dir)).code).toBe(0);
    const result = await atelier("check", dir);
    expect(result.code).toBe(0);
  });

  it("check exits 1 and names the table when a row is tampered with", async () => {
    const db = new Database(join(dir, "projections.db"));
    db.prepare("UPDATE workspaces SET name = 'tampered'").run();
    db.close();
    const result = await atelier("check", dir);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("workspaces");
  });

  it("refuses a folder without a log with exit 2, saying so on stderr like every command", async () => {
    const refused = await atelier("check", tmpdir());
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe(`atelier: ${tmpdir()} is not a workspace folder (no log/ inside)\n`);
    expect(refused.stdout).toBe("");
  });
});
