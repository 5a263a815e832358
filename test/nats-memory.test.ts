/**
 * The mirror against MemoryJetStream on a virtual clock, under seeded faults: outages, lost acks,
 * a store that loses its tail on restart (F15, F17), with the duplicate window expiring in between.
 * Safety after every step: JetStream holds a prefix of the log, each event once (I5, I6). Liveness
 * once healed: it holds the whole log. The same seed gives the same run.
 */
import { Schema } from "effect";
import { expect, it } from "vitest";
import {
  defineEvent,
  makeCatalogue,
  MemoryJetStream,
  MemoryStorage,
  nextInt,
  openLog,
  seededRandom,
  startMirror,
  VirtualClock,
  type EventLog,
  type Mirror,
} from "@atelier/events";

const Noted = defineEvent("test.noted", { payload: Schema.Struct({ n: Schema.Number }), doc: "A note." });
const catalogue = makeCatalogue(Noted);
const WS = "ws_sim";

/** Lets every pending promise chain run (nothing here waits on real time). */
const settle = async (): Promise<void> => {
  for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
};

const setup = async (seed: number) => {
  const clock = new VirtualClock();
  const log = await openLog("/ws", { workspace: WS, catalogue, fsync: "none", clock, random: seededRandom(seed), storage: new MemoryStorage() });
  const js = new MemoryJetStream(clock);
  const mirror = startMirror(log, {
    jetstream: js.connect,
    clock,
    random: seededRandom(seed + 1),
    window: 8,
    timeoutMs: 100,
    backoff: { baseMs: 10, maxMs: 200 },
    stream: { duplicateWindowMs: 1000 },
  });
  return { clock, log, js, mirror };
};

/** JetStream's messages for the workspace are the log's first lines, in order, each once. */
const expectPrefix = (js: MemoryJetStream, log: EventLog): void => {
  const stored = js.messagesOf(WS);
  const lines = [...log.readRaw({ to: stored.length })];
  expect(stored.map((m) => [m.msgId, m.line])).toEqual(lines.map((l) => [`${WS}:${l.seq}`, l.line]));
};

const run = async (seed: number): Promise<string[]> => {
  const { clock, log, js, mirror } = await setup(seed);
  const random = seededRandom(seed + 2);
  const trace: string[] = [];
  let up = true;
  let n = 0;
  for (let step = 0; step < 300; step++) {
    const roll = nextInt(random, 0, 99);
    if (roll < 45) await log.append(Array.from({ length: nextInt(random, 1, 6) }, () => ({ type: "test.noted", entity: "e", payload: { n: n++ } })));
    else if (roll < 50 && up) (js.crash(), (up = false));
    else if (roll < 60 && !up) (js.restart(nextInt(random, 0, 3)), (up = true));
    else if (roll < 65) js.loseAcks(nextInt(random, 1, 3));
    else clock.advance(nextInt(random, 0, 400));
    await settle();
    expectPrefix(js, log);
    const s = mirror.status();
    trace.push(`${s.state} ${s.mirroredHead}/${s.logHead} d${s.duplicates} s${s.sessions}`);
  }
  // Heal: the server is up with no more faults; within bounded virtual time the mirror catches up.
  if (!up) js.restart();
  js.clearFaults();
  for (let i = 0; i < 100 && (mirror.status().lag > 0 || mirror.status().state !== "mirroring"); i++) {
    clock.advance(50);
    await settle();
  }
  expect(mirror.status()).toMatchObject({ state: "mirroring", lag: 0 });
  expect(js.messagesOf(WS)).toHaveLength(log.head());
  expectPrefix(js, log);
  await mirror.stop();
  await log.close();
  return trace;
};

it("under outages, lost acks and lost tails JetStream stays a prefix of the log, then equals it", async () => {
  for (let seed = 1; seed <= 20; seed++) await run(seed);
});

it("the same seed gives the same run", async () => {
  expect(await run(42)).toEqual(await run(42));
});

it("a refused publish followed by stored ones (a gap) is detected, not built on", async () => {
  const { clock, log, js, mirror } = await setup(7);
  await settle();
  js.refusePublishes(1);
  await log.append(Array.from({ length: 5 }, (_, n) => ({ type: "test.noted", entity: "e", payload: { n } })));
  await settle();
  clock.advance(100); // past the backoff: the next session reconciles
  await settle();
  expect(js.messagesOf(WS).map((m) => m.msgId)).toEqual([`${WS}:2`, `${WS}:3`, `${WS}:4`, `${WS}:5`]);
  expect(mirror.status()).toMatchObject({ state: "diverged", mirroredHead: 0, lastError: expect.stringMatching(/a gap or a copy/) });
  await mirror.stop();
  await log.close();
});

it("stops cleanly while waiting out a backoff", async () => {
  const { js, log, mirror }: { js: MemoryJetStream; log: EventLog; mirror: Mirror } = await setup(3);
  js.crash();
  await settle();
  await log.append([{ type: "test.noted", entity: "e", payload: { n: 0 } }]);
  await settle();
  expect(mirror.status()).toMatchObject({ state: "retrying", lag: 1 });
  await mirror.stop();
  expect(mirror.status().state).toBe("stopped");
  await log.close();
});
