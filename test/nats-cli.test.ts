/**
 * The `atelier follow`, `restore` and `mirror status` commands against a real nats-server, and
 * the nats/ folder: its configs parse, and its stream definitions are the ones the code creates.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Schema } from "effect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defineEvent, makeCatalogue, openLog, startMirror, streamConfig, type EventLog } from "@atelier/events";
import { runCli } from "../packages/gateway/src/cli/main.ts";
import type { Output } from "../packages/gateway/src/cli/command.ts";
import { natsServerBinary, startNatsServer, type NatsServer } from "./helpers/nats-server.ts";

const Said = defineEvent("test.said", { payload: Schema.Struct({ n: Schema.Number }), doc: "Something said." });
const catalogue = makeCatalogue(Said);
const natsDir = path.resolve(import.meta.dirname, "..", "nats");

const capture = (): Output & { lines: string[]; errors: string[] } => {
  const lines: string[] = [];
  const errors: string[] = [];
  return { lines, errors, out: (l) => void lines.push(l), err: (l) => void errors.push(l), isTTY: false };
};

const logBytes = (workspaceDir: string): Record<string, string> => {
  const dir = path.join(workspaceDir, "log");
  const files = fs.readdirSync(dir).filter((n) => n.endsWith(".jsonl")).sort();
  return Object.fromEntries(files.map((n) => [n, fs.readFileSync(path.join(dir, n), "utf8")]));
};

describe("nats/ folder", () => {
  it("every config parses with the installed nats-server", () => {
    const configs = ["nats-server.conf", "cluster/node-1.conf", "cluster/node-2.conf", "cluster/node-3.conf"];
    for (const config of configs) {
      expect(execFileSync(natsServerBinary(), ["-c", path.join(natsDir, config), "-t"], { encoding: "utf8", stdio: "pipe" })).toBe("");
    }
  });

  it("the stream definitions are the ones the mirror creates", () => {
    const read = (name: string): unknown => JSON.parse(fs.readFileSync(path.join(natsDir, "streams", name), "utf8"));
    expect(read("atelier.json")).toEqual(streamConfig());
    expect(read("atelier-cluster.json")).toEqual(streamConfig({ replicas: 3 }));
  });
});

describe("atelier follow / restore / mirror status", () => {
  let server: NatsServer;
  let root: string;
  let dataDir: string;
  let log: EventLog;

  beforeAll(async () => {
    server = await startNatsServer();
    root = fs.mkdtempSync(path.join(os.tmpdir(), "atelier-cli-nats-"));
    dataDir = path.join(root, "data");
    log = await openLog(path.join(dataDir, "workspaces", "ws_cli"), { workspace: "ws_cli", catalogue, fsync: "none", segmentBytes: 16 * 1024 });
    for (let i = 0; i < 10; i++) await log.append(Array.from({ length: 100 }, (_, n) => ({ type: "test.said", entity: "x", payload: { n } })));
    const mirror = startMirror(log, { url: server.url, workspaceDir: path.join(dataDir, "workspaces", "ws_cli") });
    await mirror.mirrored(log.head());
    await mirror.stop();
  });

  afterAll(async () => {
    await log?.close();
    await server?.stop();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it("restore rebuilds the log; a second restore into the same folder is refused", async () => {
    const io = capture();
    const target = path.join(root, "restored");
    expect(await runCli(["restore", "--nats", server.url, "ws_cli", target], io)).toBe(0);
    expect(io.lines.at(-1)).toBe(`restored ws_cli: 1000 events into ${target}/log`);
    expect(logBytes(target)).toEqual(logBytes(path.join(dataDir, "workspaces", "ws_cli")));
    expect(await runCli(["restore", "--nats", server.url, "ws_cli", target], io)).toBe(1);
    expect(io.errors.at(-1)).toMatch(/empty folder/);
  });

  it("follow --once copies, and resumes a copy after new events", async () => {
    const io = capture();
    const copy = path.join(root, "copy");
    expect(await runCli(["follow", "--nats", server.url, "--once", "ws_cli", copy], io)).toBe(0);
    await log.append([{ type: "test.said", entity: "x", payload: { n: 1000 } }]);
    const mirror = startMirror(log, { url: server.url, workspaceDir: path.join(dataDir, "workspaces", "ws_cli") });
    await mirror.mirrored(log.head());
    await mirror.stop();
    expect(await runCli(["follow", "--nats", server.url, "--once", "ws_cli", copy], io)).toBe(0);
    expect(io.lines.at(-1)).toBe(`ws_cli: local copy holds seq 1..1001 in ${copy}`);
    expect(logBytes(copy)).toEqual(logBytes(path.join(dataDir, "workspaces", "ws_cli")));
  });

  it("mirror status prints heads and lag per workspace, not for a crash's leftover beside them", async () => {
    await log.append([{ type: "test.said", entity: "x", payload: { n: 1001 } }]);
    // A restore killed mid-way leaves its staging folder (a log copy) under a dot name.
    const workspaces = path.join(dataDir, "workspaces");
    fs.cpSync(path.join(workspaces, "ws_cli", "log"), path.join(workspaces, ".ws_cli.restoring-k1ll3d", "log"), { recursive: true });
    const io = capture();
    expect(await runCli(["mirror", "status", "--nats", server.url, dataDir], io)).toBe(0);
    expect(io.lines.map((l) => l.split(/\s{2,}/))).toEqual([
      ["workspace", "log head", "mirrored", "lag", "state"],
      ["ws_cli", "1002", "1001", "1", "behind"],
    ]);
  });

  it("needs a NATS url", async () => {
    const io = capture();
    const saved = process.env.ATELIER_NATS_URL;
    delete process.env.ATELIER_NATS_URL;
    try {
      expect(await runCli(["restore", "ws_cli", path.join(root, "nowhere")], io)).toBe(2);
    } finally {
      if (saved !== undefined) process.env.ATELIER_NATS_URL = saved;
    }
    expect(io.errors.join("\n")).toMatch(/--nats <url> or set ATELIER_NATS_URL/);
  });
});
