import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { EXIT, openDb, openProjection, runCheckCommand, runRebuildCommand } from "../src/index.ts";
import { cleanup, tempDir, writeWorkspace } from "./support/fixtures.ts";

afterEach(cleanup);

const collector = (isTTY = false) => {
  const chunks: string[] = [];
  return { isTTY, text: () => chunks.join(""), write: (text: string) => chunks.push(text) };
};

/** A workspace whose projection is caught up and closed, with its log closed too. */
const workspace = async (seed: number) => {
  const dir = tempDir("cli");
  const log = await writeWorkspace(dir, seed, 1500);
  await (await openProjection(dir, log)).close();
  await log.close();
  return dir;
};

const tamper = (dir: string, sql: string): void => {
  const db = openDb(join(dir, "projections.db"), "live");
  db.exec(sql);
  db.close();
};

describe("atelier check", () => {
  it("exits 0 when the projection equals a rebuild", async () => {
    const dir = await workspace(21);
    const out = collector();
    expect(await runCheckCommand(dir, out)).toBe(EXIT.ok);
    expect(out.text()).toMatch(/^ok: the projection equals a rebuild from the log at seq \d+\n$/);
  });

  it("exits non-zero and names the table when a row is tampered with", async () => {
    const dir = await workspace(22);
    tamper(dir, "UPDATE agents SET state = 'tampered' WHERE id = (SELECT min(id) FROM agents)");
    const out = collector();
    expect(await runCheckCommand(dir, out)).toBe(EXIT.differs);
    expect(out.text()).toContain("differing tables: agents\n");
  });

  it("names every tampered table, including deleted rows", async () => {
    const dir = await workspace(23);
    tamper(dir, "DELETE FROM timeline WHERE seq = 7; UPDATE locks SET token = token + 1");
    const out = collector();
    expect(await runCheckCommand(dir, out)).toBe(EXIT.differs);
    expect(out.text()).toContain("differing tables: locks, timeline\n");
  });

  it("says a damaged file is damaged and how to replace it, exit 1", async () => {
    const dir = await workspace(24);
    const file = join(dir, "projections.db");
    const bytes = readFileSync(file);
    for (let i = 8_192; i < bytes.length - 8_192; i += 7) bytes[i]! ^= 0x5a;
    writeFileSync(file, bytes);
    const out = collector();
    expect(await runCheckCommand(dir, out)).toBe(EXIT.differs);
    expect(out.text()).toMatch(/^DAMAGED: the projection file cannot be read \(database disk image is malformed\)\nrun `atelier rebuild`/m);
    expect(await runRebuildCommand(dir, collector())).toBe(EXIT.ok);
    expect(await runCheckCommand(dir, collector())).toBe(EXIT.ok);
  });

  it("fails with exit 2 on a folder without a log", async () => {
    const out = collector();
    expect(await runCheckCommand(tempDir("empty"), out)).toBe(EXIT.failed);
    expect(out.text()).toContain("not a workspace folder");
  });
});

describe("atelier rebuild", () => {
  it("replaces a tampered projection, drawing a progress bar on a terminal", async () => {
    const dir = await workspace(24);
    tamper(dir, "DELETE FROM messages");
    const out = collector(true);
    expect(await runRebuildCommand(dir, out)).toBe(EXIT.ok);
    expect(out.text()).toContain("100%");
    expect(out.text()).toMatch(/rebuilt .*projections\.db from [\d,]+ events/);
    expect(await runCheckCommand(dir, collector())).toBe(EXIT.ok);
  });

  it("refuses while a live process holds the workspace's log", async () => {
    const dir = tempDir("cli");
    const log = await writeWorkspace(dir, 25, 100);
    const out = collector();
    expect(await runRebuildCommand(dir, out)).toBe(EXIT.failed);
    expect(out.text()).toContain("stop the server");
    await log.close();
  });
});
