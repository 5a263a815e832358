/**
 * The 3-node cluster of nats/cluster/ with the replicated stream: the mirror keeps going when the
 * node leading the stream is SIGKILLed mid-stream, and the survivors hold exactly the log.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Schema } from "effect";
import { afterAll, beforeAll, expect, it } from "vitest";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { defineEvent, makeCatalogue, openLog, startMirror, subjectFor, type EventLog } from "@atelier/events";
import { readSubject, startNatsCluster, type NatsCluster } from "./helpers/nats-server.ts";

const Ticked = defineEvent("test.ticked", { payload: Schema.Struct({ n: Schema.Number }), doc: "A tick." });
const catalogue = makeCatalogue(Ticked);
const WS = "ws_cluster";

let cluster: NatsCluster;
let root: string;
let log: EventLog;

const appendTicks = async (batches: number): Promise<void> => {
  for (let i = 0; i < batches; i++) await log.append(Array.from({ length: 100 }, (_, n) => ({ type: "test.ticked", entity: "clock", payload: { n } })));
};

beforeAll(async () => {
  cluster = await startNatsCluster();
  root = fs.mkdtempSync(path.join(os.tmpdir(), "atelier-cluster-"));
  log = await openLog(path.join(root, WS), { workspace: WS, catalogue, fsync: "none" });
});

afterAll(async () => {
  await log?.close();
  await cluster?.stop();
  fs.rmSync(root, { recursive: true, force: true });
});

it("keeps mirroring through the loss of the stream leader; the survivors equal the log", { timeout: 60_000 }, async () => {
  const mirror = startMirror(log, { url: cluster.url, stream: { replicas: 3 }, backoff: { baseMs: 50, maxMs: 500 }, timeoutMs: 2000 });
  await appendTicks(20);
  await mirror.mirrored(log.head());

  // Right after losing a node the cluster may time out JetStream requests while it elects a new
  // meta leader: retry for a bounded time, as any client would.
  const survivors = async (): Promise<{ nc: Awaited<ReturnType<typeof connect>>; jsm: Awaited<ReturnType<typeof jetstreamManager>> }> => {
    for (let attempt = 1; ; attempt++) {
      const nc = await connect({ servers: cluster.nodes.filter((n) => n.running()).map((n) => n.url) });
      try {
        return { nc, jsm: await jetstreamManager(nc) };
      } catch (error) {
        await nc.close();
        if (attempt === 10) throw error;
      }
    }
  };
  let { nc, jsm } = await survivors();
  const info = await jsm.streams.info("ATELIER");
  expect(info.config.num_replicas).toBe(3);
  const leader = cluster.nodes[Number(info.cluster!.leader!.replace("atelier-n", "")) - 1]!;
  await nc.close();

  const more = appendTicks(30);
  await leader.kill();
  await more;
  await mirror.mirrored(log.head());
  const status = mirror.status();
  await mirror.stop();
  expect(status).toMatchObject({ lag: 0, state: "mirroring" });

  ({ nc, jsm } = await survivors());
  let stored: Awaited<ReturnType<typeof readSubject>> | undefined;
  for (let attempt = 1; !stored; attempt++) {
    stored = await readSubject(nc, "ATELIER", subjectFor(WS)).catch((error: unknown) => {
      if (attempt === 10) throw error;
      return undefined;
    });
  }
  await nc.close();
  const lines = [...log.readRaw()].map((r) => r.line);
  expect(stored.length).toBe(lines.length);
  expect(stored.findIndex((s, i) => s.line !== lines[i] || s.msgId !== `${WS}:${i + 1}`)).toBe(-1);
});
