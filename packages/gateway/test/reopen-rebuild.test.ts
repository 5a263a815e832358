import { rmSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { workspaceStatus } from "@atelier/projections";
import { startServer } from "../src/index.ts";
import { serverWithWorkspace } from "./support/server.ts";

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe("a workspace whose read models are stale when the server starts", () => {
  it("is served from read models rebuilt from its log, and the server log says why and how long it took", async () => {
    const { data, server: first, host } = await serverWithWorkspace("rebuilt");
    dirs.push(data);
    const id = host.id;
    await host.ws.context.set("k", 1, "test");
    await first.close();

    // As if written by an older build: another projector version, and a row it got wrong.
    const db = new Database(join(data, "workspaces", id, "projections.db"));
    db.prepare("UPDATE projection_checkpoint SET projectors = 'atelier@0'").run();
    db.prepare("UPDATE workspaces SET name = 'stale'").run();
    db.close();

    const logs: string[] = [];
    const second = await startServer({ dataDir: data, port: 0, webDist: null, log: (line) => logs.push(line) });
    try {
      const back = await second.gateway.host(id);
      expect(back.projection.rebuilt).toBe("projectors");
      expect(workspaceStatus(back.projection)?.name).toBe("rebuilt");
      expect(logs).toContainEqual(expect.stringMatching(new RegExp(`^workspace ${id}: read models rebuilt from the log \\(their projectors changed\\): ${back.head} events, \\d+\\.\\d s$`)));
    } finally {
      await second.close();
    }

    logs.length = 0;
    const third = await startServer({ dataDir: data, port: 0, webDist: null, log: (line) => logs.push(line) });
    await third.close();
    expect(logs.filter((line) => line.includes("rebuilt"))).toEqual([]);
  }, 30_000);
});
