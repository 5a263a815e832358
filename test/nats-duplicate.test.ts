/**
 * F15/F16: a publish whose ack was lost is retried. Inside the duplicate window JetStream answers
 * "duplicate" and stores nothing; outside it a blind retry would store a copy, so the mirror reads
 * back what the subject holds before publishing, and guards with the expected subject sequence.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Schema } from "effect";
import { afterAll, beforeAll, expect, it } from "vitest";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import {
  defineEvent,
  ensureStream,
  makeCatalogue,
  openLog,
  publishLine,
  readSubjectHead,
  startMirror,
  subjectFor,
  type EventLog,
  type PublishTarget,
} from "@atelier/events";
import { startNatsServer, type NatsServer } from "./helpers/nats-server.ts";

const Said = defineEvent("test.said", { payload: Schema.Struct({ n: Schema.Number }), doc: "Something said." });
const catalogue = makeCatalogue(Said);
/** Short enough for a test to outwait. */
const WINDOW_MS = 1000;
const STREAM = { duplicateWindowMs: WINDOW_MS };

let server: NatsServer;
let nc: NatsConnection;
let root: string;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const logWith = async (ws: string, events: number): Promise<EventLog> => {
  const log = await openLog(path.join(root, ws), { workspace: ws, catalogue, fsync: "none" });
  await log.append(Array.from({ length: events }, (_, n) => ({ type: "test.said", entity: "x", payload: { n } })));
  return log;
};

const mirrorAll = async (log: EventLog): Promise<void> => {
  const mirror = startMirror(log, { connection: nc, stream: STREAM });
  await mirror.mirrored(log.head());
  expect(mirror.status().duplicates).toBe(0);
  await mirror.stop();
};

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connect({ servers: server.url });
  root = fs.mkdtempSync(path.join(os.tmpdir(), "atelier-dup-"));
  await ensureStream(await jetstreamManager(nc), STREAM);
});

afterAll(async () => {
  await nc?.close();
  await server?.stop();
  fs.rmSync(root, { recursive: true, force: true });
});

it("a publish retried after a lost ack is reported duplicate, not stored twice", async () => {
  const log = await logWith("ws_dup", 1);
  const { line } = [...log.readRaw()][0]!;
  const target: PublishTarget = { js: jetstream(nc), stream: "ATELIER", workspace: "ws_dup" };
  const first = await publishLine(target, 1, line, { expectLastSubjectSequence: 0 });
  // The ack above is "lost": the publisher retries the very same publish.
  const retry = await publishLine(target, 1, line, { expectLastSubjectSequence: 0 });
  expect(first.duplicate).toBe(false);
  expect(retry).toMatchObject({ duplicate: true, seq: first.seq });
  expect(await readSubjectHead(await jetstreamManager(nc), "ATELIER", "ws_dup")).toMatchObject({ seq: 1, count: 1, line });
  await log.close();
});

it("outside the duplicate window the mirror reads back instead of re-sending, and stale writers are refused", async () => {
  const log = await logWith("ws_late", 10);
  await mirrorAll(log);
  const jsm = await jetstreamManager(nc);
  const atTen = await readSubjectHead(jsm, "ATELIER", "ws_late");
  await sleep(WINDOW_MS + 300); // JetStream has forgotten the message ids by now

  // A restarted mirror reconciles (reads the subject's last event) and sends only what is new.
  await log.append([{ type: "test.said", entity: "x", payload: { n: 10 } }]);
  await mirrorAll(log);
  expect(await readSubjectHead(jsm, "ATELIER", "ws_late")).toMatchObject({ seq: 11, count: 11 });

  // A writer that still believes event 10 is the subject's last is refused (F16)...
  await log.append([{ type: "test.said", entity: "x", payload: { n: 11 } }]);
  const target: PublishTarget = { js: jetstream(nc), stream: "ATELIER", workspace: "ws_late" };
  const [ten, , twelve] = [...log.readRaw({ from: 10, to: 12 })].map((r) => r.line) as [string, string, string];
  await expect(publishLine(target, 12, twelve, { expectLastSubjectSequence: atTen.streamSeq })).rejects.toThrow(/wrong last sequence/);

  // ...while a blind retry past the window would store a copy, which the next reconcile refuses
  // to build on: the mirror reports the divergence instead of hiding it.
  expect((await publishLine(target, 10, ten)).duplicate).toBe(false);
  const mirror = startMirror(log, { connection: nc, stream: STREAM, backoff: { baseMs: 10, maxMs: 50 } });
  await expect.poll(() => mirror.status().state).toBe("diverged");
  expect(mirror.status().lastError).toMatch(/a gap or a copy/);
  await mirror.stop();
  await log.close();
});

it("a duplicate ack that points at a purged message is not taken as mirrored, and heals after the window", async () => {
  const log = await logWith("ws_purged", 5);
  await mirrorAll(log);
  await (await jetstreamManager(nc)).streams.purge("ATELIER", { filter: subjectFor("ws_purged") });
  // JetStream still remembers the ids, so every re-send is acknowledged as a duplicate of nothing.
  const mirror = startMirror(log, { connection: nc, stream: STREAM, backoff: { baseMs: 10, maxMs: 50 } });
  await expect.poll(() => mirror.status().state).toBe("repairing");
  expect(mirror.status()).toMatchObject({ mirroredHead: 0, lastError: expect.stringMatching(/as a duplicate of message \d+, which does not hold it/) });
  // Once the ids are forgotten the re-sends are stored.
  await mirror.mirrored(5);
  expect(await readSubjectHead(await jetstreamManager(nc), "ATELIER", "ws_purged")).toMatchObject({ seq: 5, count: 5 });
  await mirror.stop();
  await log.close();
});
