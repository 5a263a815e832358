/**
 * The mirror against a real nats-server: 100k events end up in JetStream exactly as the log stores
 * them, a restarted mirror resumes without re-sending, and a restore rebuilds the log byte for byte.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Schema } from "effect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { defineEvent, makeCatalogue, openLog, restoreWorkspace, startMirror, subjectFor, type AppendInput, type EventLog } from "@atelier/events";
import { readSubject, startNatsServer, type NatsServer } from "./helpers/nats-server.ts";

const Noted = defineEvent("test.noted", { payload: Schema.Struct({ n: Schema.Number, text: Schema.String }), doc: "A numbered note." });
const catalogue = makeCatalogue(Noted);
const WS = "ws_mirror";
const TOTAL = 100_000;
const BATCH = 100;

const batch = (from: number): AppendInput[] =>
  Array.from({ length: BATCH }, (_, i) => ({ type: "test.noted", entity: `note:${(from + i) % 97}`, payload: { n: from + i, text: "é∂ unicode survives" } }));

const appendEvents = async (log: EventLog, count: number): Promise<void> => {
  for (let i = 0; i < count; i += BATCH) await log.append(batch(i));
};

const segmentFiles = (workspaceDir: string): string[] =>
  fs.readdirSync(path.join(workspaceDir, "log")).filter((n) => n.endsWith(".jsonl")).sort();

describe("mirror to JetStream", () => {
  let server: NatsServer;
  let nc: NatsConnection;
  let root: string;
  let dir: string;
  let log: EventLog;

  beforeAll(async () => {
    server = await startNatsServer();
    nc = await connect({ servers: server.url });
    root = fs.mkdtempSync(path.join(os.tmpdir(), "atelier-mirror-"));
    dir = path.join(root, WS);
    // Small segments, so that the restore has several files to split alike.
    log = await openLog(dir, { workspace: WS, catalogue, fsync: "none", segmentBytes: 4 * 1024 * 1024 });
  });

  afterAll(async () => {
    await log?.close();
    await nc?.close();
    await server?.stop();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it("mirrors 100k events; JetStream equals the log event by event", async () => {
    await appendEvents(log, TOTAL / 2); // a backlog to catch up on...
    const mirror = startMirror(log, { url: server.url, workspaceDir: dir });
    await appendEvents(log, TOTAL / 2); // ...and live appends while it does
    await mirror.mirrored(TOTAL);
    const status = mirror.status();
    await mirror.stop();
    expect(status).toMatchObject({ state: "mirroring", logHead: TOTAL, mirroredHead: TOTAL, lag: 0, duplicates: 0, sessions: 1 });

    const stored = await readSubject(nc, "ATELIER", subjectFor(WS));
    const lines = [...log.readRaw()];
    expect(stored.length).toBe(TOTAL);
    const segmentStarts = new Set(segmentFiles(dir).map((n) => Number(n.slice(0, 16))));
    for (let i = 0; i < TOTAL; i++) {
      const seq = i + 1;
      if (stored[i]!.line !== lines[i]!.line || stored[i]!.msgId !== `${WS}:${seq}` || stored[i]!.segmentStart !== segmentStarts.has(seq)) {
        expect({ seq, ...stored[i] }).toEqual({ seq, line: lines[i]!.line, msgId: `${WS}:${seq}`, segmentStart: segmentStarts.has(seq) });
      }
    }
  });

  it("resumes after a restart from what JetStream holds, re-sending nothing", async () => {
    await appendEvents(log, 1000);
    const mirror = startMirror(log, { url: server.url, workspaceDir: dir });
    await mirror.mirrored(log.head());
    const status = mirror.status();
    await mirror.stop();
    expect(status).toMatchObject({ mirroredHead: TOTAL + 1000, lag: 0, duplicates: 0 });
    expect((await readSubject(nc, "ATELIER", subjectFor(WS))).length).toBe(TOTAL + 1000);
  });

  it("restores into an empty folder a log byte-identical to the original", async () => {
    const restored = path.join(root, "restored");
    const head = await restoreWorkspace({ connection: nc, workspace: WS, dir: restored });
    expect(head).toBe(log.head());
    const names = segmentFiles(dir);
    expect(names.length).toBeGreaterThan(3);
    expect(segmentFiles(restored)).toEqual(names);
    for (const name of names) {
      expect(fs.readFileSync(path.join(restored, "log", name)).equals(fs.readFileSync(path.join(dir, "log", name)))).toBe(true);
    }
    // The copy is a log the writer accepts as it is.
    const reopened = await openLog(restored, { workspace: WS, catalogue });
    expect([reopened.head(), reopened.headHash(), reopened.recovery.truncated]).toEqual([log.head(), log.headHash(), undefined]);
    await reopened.close();
    await expect(restoreWorkspace({ connection: nc, workspace: WS, dir: restored })).rejects.toThrow(/empty folder/);
  });
});
