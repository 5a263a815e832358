/**
 * A NATS outage in the middle of a stream of appends: nats-server is SIGKILLed and restarted on the
 * same port and store while the logs keep accepting events. Afterwards JetStream holds exactly each
 * log: every event once, in order, byte for byte. Two workspaces ride it out: one mirror owns its
 * connection (and its backoff decides when to reconnect), the other shares a connection that
 * reconnects by itself, as a gateway's would.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Schema } from "effect";
import { afterAll, beforeAll, expect, it } from "vitest";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { connectNats, defineEvent, makeCatalogue, openLog, startMirror, subjectFor, type EventLog, type Mirror } from "@atelier/events";
import { readSubject, startNatsServer, type NatsServer } from "./helpers/nats-server.ts";

const Ticked = defineEvent("test.ticked", { payload: Schema.Struct({ n: Schema.Number }), doc: "A tick." });
const catalogue = makeCatalogue(Ticked);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const until = async (what: string, check: () => boolean, timeoutMs = 15_000): Promise<void> => {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
};

const ticks = (count: number): Array<{ type: string; entity: string; payload: { n: number } }> =>
  Array.from({ length: count }, (_, n) => ({ type: "test.ticked", entity: "clock", payload: { n } }));

let server: NatsServer;
let shared: NatsConnection;
let root: string;
const logs: EventLog[] = [];

beforeAll(async () => {
  server = await startNatsServer();
  shared = await connectNats(server.url, "outage test");
  root = fs.mkdtempSync(path.join(os.tmpdir(), "atelier-outage-"));
  for (const ws of ["ws_owned", "ws_shared"]) logs.push(await openLog(path.join(root, ws), { workspace: ws, catalogue, fsync: "batch" }));
});

afterAll(async () => {
  for (const log of logs) await log.close();
  await shared?.close();
  await server?.stop();
  fs.rmSync(root, { recursive: true, force: true });
});

it("survives nats-server being killed and restarted mid-stream: no gap, no duplicate", async () => {
  const retry = { backoff: { baseMs: 20, maxMs: 300 }, timeoutMs: 2000 };
  const mirrors: Mirror[] = [startMirror(logs[0]!, { url: server.url, ...retry }), startMirror(logs[1]!, { connection: shared, ...retry })];
  // Both logs take 20 events every 5 ms until told to stop.
  let appending = true;
  const appenders = logs.map(async (log) => {
    while (appending) {
      await log.append(ticks(20));
      await sleep(5);
    }
  });

  await until("the mirrors to get going", () => mirrors.every((m) => m.status().mirroredHead > 2000));
  // A burst, so that the kill lands with publishes in flight.
  const burstFrom = logs[0]!.head();
  for (let i = 0; i < 100; i++) await logs[0]!.append(ticks(100));
  await until("the mirror to be inside the burst", () => mirrors[0]!.status().mirroredHead > burstFrom + 1000);
  const inFlightAtKill = mirrors[0]!.status().inFlight;
  await server.kill();
  const atKill = logs.map((log) => log.head());
  await sleep(1000);

  // The logs kept accepting appends; the mirrors fell behind and say so.
  expect(inFlightAtKill).toBeGreaterThan(0);
  logs.forEach((log, i) => expect(log.head()).toBeGreaterThan(atKill[i]! + 1000));
  expect(mirrors[0]!.status().state).toBe("retrying");
  for (const m of mirrors) expect(m.status().lag).toBeGreaterThan(1000);

  await server.restart();
  await sleep(500);
  appending = false;
  await Promise.all(appenders);

  const nc = await connect({ servers: server.url });
  for (const [i, log] of logs.entries()) {
    await mirrors[i]!.mirrored(log.head());
    const after = mirrors[i]!.status();
    await mirrors[i]!.stop();
    expect(after).toMatchObject({ state: "mirroring", lag: 0, mirroredHead: log.head() });
    expect(after.sessions).toBeGreaterThanOrEqual(2);

    const stored = await readSubject(nc, "ATELIER", subjectFor(log.workspace));
    const lines = [...log.readRaw()].map((r) => r.line);
    expect(stored.length).toBe(lines.length);
    expect(new Set(stored.map((s) => s.msgId)).size).toBe(stored.length);
    expect(stored.findIndex((s, seq) => s.line !== lines[seq] || s.msgId !== `${log.workspace}:${seq + 1}`)).toBe(-1);
  }
  await nc.close();
});
