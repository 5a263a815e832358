/**
 * A NATS outage in the middle of a stream of appends: nats-server is SIGKILLed and restarted on the
 * same port and store while the log keeps accepting events. Afterwards JetStream holds exactly the
 * log: every event once, in order, byte for byte.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Schema } from "effect";
import { afterAll, beforeAll, expect, it } from "vitest";
import { connect } from "@nats-io/transport-node";
import { defineEvent, makeCatalogue, openLog, startMirror, subjectFor, type EventLog, type Mirror, type MirrorStatus } from "@atelier/events";
import { readSubject, startNatsServer, type NatsServer } from "./helpers/nats-server.ts";

const Ticked = defineEvent("test.ticked", { payload: Schema.Struct({ n: Schema.Number }), doc: "A tick." });
const catalogue = makeCatalogue(Ticked);
const WS = "ws_outage";

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const until = async (what: string, check: () => boolean, timeoutMs = 15_000): Promise<void> => {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
};

let server: NatsServer;
let root: string;
let log: EventLog;

beforeAll(async () => {
  server = await startNatsServer();
  root = fs.mkdtempSync(path.join(os.tmpdir(), "atelier-outage-"));
  log = await openLog(path.join(root, WS), { workspace: WS, catalogue, fsync: "batch" });
});

afterAll(async () => {
  await log?.close();
  await server?.stop();
  fs.rmSync(root, { recursive: true, force: true });
});

it("survives nats-server being killed and restarted mid-stream: no gap, no duplicate", async () => {
  const mirror: Mirror = startMirror(log, { url: server.url, backoff: { baseMs: 20, maxMs: 300 }, ackTimeoutMs: 2000 });
  // About 4,000 events/s, 20 per append, until told to stop.
  let appending = true;
  let n = 0;
  const appender = (async () => {
    while (appending) {
      await log.append(Array.from({ length: 20 }, () => ({ type: "test.ticked", entity: "clock", payload: { n: n++ } })));
      await sleep(5);
    }
  })();

  await until("the mirror to get going", () => mirror.status().mirroredHead > 2000);
  // A burst, so that the kill lands with a full window of publishes in flight.
  const burstFrom = log.head();
  for (let i = 0; i < 100; i++) await log.append(Array.from({ length: 100 }, () => ({ type: "test.ticked", entity: "clock", payload: { n: n++ } })));
  await until("the mirror to be inside the burst", () => mirror.status().mirroredHead > burstFrom + 1000, 15_000);
  const inFlightAtKill = mirror.status().inFlight;
  await server.kill();
  const atKill = log.head();
  const during: MirrorStatus[] = [];
  for (let i = 0; i < 10; i++) {
    await sleep(100);
    during.push(mirror.status());
  }
  // The log kept accepting appends; the mirror noticed and is retrying, falling behind.
  expect(log.head()).toBeGreaterThan(atKill + 1000);
  expect(inFlightAtKill).toBeGreaterThan(0);
  expect(during.at(-1)).toMatchObject({ state: "retrying" });
  expect(during.at(-1)!.lag).toBeGreaterThan(1000);

  await server.restart();
  await sleep(500);
  appending = false;
  await appender;
  await mirror.mirrored(log.head());
  const after = mirror.status();
  await mirror.stop();
  expect(after).toMatchObject({ state: "mirroring", lag: 0, mirroredHead: log.head() });
  expect(after.sessions).toBeGreaterThanOrEqual(2);

  const nc = await connect({ servers: server.url });
  const stored = await readSubject(nc, "ATELIER", subjectFor(WS));
  await nc.close();
  const lines = [...log.readRaw()].map((r) => r.line);
  expect(stored.length).toBe(lines.length);
  expect(new Set(stored.map((s) => s.msgId)).size).toBe(stored.length);
  const firstDifference = stored.findIndex((s, i) => s.line !== lines[i] || s.msgId !== `${WS}:${i + 1}`);
  expect(firstDifference).toBe(-1);
});
