import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  InvalidEvent,
  LogCorrupted,
  LogFailed,
  LogLocked,
  MemoryStorage,
  UnknownEventType,
  VirtualClock,
  nodeStorage,
  openLog,
  scanLog,
  nextInt,
  seededRandom,
  type Storage,
} from "../src/index.ts";
import { SegmentVerifier } from "../src/archive/chain.ts";
import { note, tempDir, testCatalogue } from "./helpers.ts";

const open = (dir: string, extra: { storage?: Storage; segmentBytes?: number; fsync?: "always" | "batch" | "none" } = {}) =>
  openLog(dir, { workspace: "ws_test", catalogue: testCatalogue, clock: new VirtualClock(), random: seededRandom(1), ...extra });

/** A closed log in a fresh folder holding one note per text, each appended alone; its first segment's path. */
const closedLog = async (texts: readonly string[]): Promise<{ dir: string; file: string }> => {
  const dir = tempDir();
  const log = await open(dir);
  for (const text of texts) await log.append([note(text)]);
  await log.close();
  return { dir, file: join(dir, "log", "0000000000000001.jsonl") };
};

describe("the event log", () => {
  it("assigns dense seqs from 1 and resolves with full envelopes", async () => {
    const log = await open(tempDir());
    const [a, b] = await log.append([note("one"), note("two")]);
    expect(a).toMatchObject({ seq: 1, ws: "ws_test", type: "note.added", entity: "note", ts: "2026-01-01T00:00:00.000Z" });
    expect(b!.seq).toBe(2);
    expect(a!.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(a!.id).toMatch(/^ev_/);
    expect(log.head()).toBe(2);
    await log.close();
  });

  it("gives the same bytes for the same inputs, clock and seed", async () => {
    const write = async () => {
      const dir = tempDir();
      const log = await open(dir);
      await log.append([note("a"), { type: "lock.acquired", entity: "lock:x", agent: "claude", payload: { file: "x", mode: "shared", token: 1 }, from: "free", to: "shared" }]);
      await log.close();
      return readFileSync(join(dir, "log", "0000000000000001.jsonl"), "utf8");
    };
    const first = await write();
    expect(await write()).toBe(first);
    expect(first.split("\n")[1]).toMatch(/^\{"seq":2,"ts":"[^"]+","ws":"ws_test","id":"ev_\w+","entity":"lock:x","type":"lock.acquired","agent":"claude","payload":\{.*\},"from":"free","to":"shared","hash":"[0-9a-f]{64}"\}$/);
  });

  it.each(["always", "batch", "none"] as const)("persists every acknowledged append (fsync %s)", async (fsync) => {
    const dir = tempDir();
    const log = await open(dir, { fsync });
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => log.append([note(`n${i}`)])));
    expect(results.map((r) => r[0]!.seq).sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    await log.close();
    const reopened = await open(dir);
    expect([...reopened.read()].map((e) => (e.payload as { text: string }).text)).toEqual(results.map((r) => (r[0]!.payload as { text: string }).text));
    await reopened.close();
  });

  it("shares one fsync among concurrent appends in batch mode", async () => {
    const storage = new MemoryStorage();
    const log = await open("/ws", { storage, fsync: "batch" });
    const before = storage.fileSyncs;
    await Promise.all(Array.from({ length: 100 }, (_, i) => log.append([note(String(i))])));
    expect(storage.fileSyncs - before).toBe(1);
    const perCall = await open("/ws2", { storage, fsync: "always" });
    const beforeAlways = storage.fileSyncs;
    await Promise.all(Array.from({ length: 10 }, (_, i) => perCall.append([note(String(i))])));
    expect(storage.fileSyncs - beforeAlways).toBe(10);
  });

  it("reads any range and tails live, resuming from any seq", async () => {
    const log = await open(tempDir(), { segmentBytes: 1024 });
    for (let i = 1; i <= 300; i++) await log.append([note(`n${i}`)]);
    expect([...log.read({ from: 120, to: 125 })].map((e) => e.seq)).toEqual([120, 121, 122, 123, 124, 125]);
    const tail = log.tail({ from: 299 });
    expect((await tail.next()).value!.seq).toBe(299);
    expect((await tail.next()).value!.seq).toBe(300);
    const pending = tail.next();
    await log.append([note("live")]);
    expect((await pending).value).toMatchObject({ seq: 301, payload: { text: "live" } });
    await log.close();
    expect((await tail.next()).done).toBe(true);
  });

  it("rolls segments at the configured size and reads across them", async () => {
    const dir = tempDir();
    const log = await open(dir, { segmentBytes: 2048 });
    for (let i = 1; i <= 100; i++) await log.append([note(`event number ${i}`)]);
    await log.close();
    const scan = scanLog(nodeStorage(), join(dir, "log"), "ws_test");
    expect(scan.segments.length).toBeGreaterThan(3);
    expect(scan.head).toBe(100);
    const reopened = await open(dir, { segmentBytes: 2048 });
    expect([...reopened.read({ from: 1 })].map((e) => e.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect([...reopened.read({ from: 57, to: 58 })].map((e) => e.seq)).toEqual([57, 58]);
    await reopened.close();
  });

  it("gives way between segments while an open checks the chain, when asked to, and opens the same log", async () => {
    const dir = tempDir();
    const log = await open(dir, { segmentBytes: 2048 });
    for (let i = 1; i <= 100; i++) await log.append([note(`event number ${i}`)]);
    await log.close();
    const segments = scanLog(nodeStorage(), join(dir, "log"), "ws_test").segments.length;
    // A server's way: a turn of the event loop after each segment, so a callback waiting for one runs meanwhile.
    const seen: string[] = [];
    setImmediate(() => seen.push("another task"));
    const reopened = await openLog(dir, {
      workspace: "ws_test",
      catalogue: testCatalogue,
      segmentBytes: 2048,
      giveWay: () => {
        seen.push("gave way");
        return new Promise<void>((resolve) => setImmediate(resolve));
      },
    });
    expect(seen.filter((s) => s === "gave way")).toHaveLength(segments);
    expect(seen.indexOf("another task")).toBeGreaterThan(0);
    expect(seen.indexOf("another task")).toBeLessThan(seen.length - 1);
    expect(reopened.head()).toBe(100);
    await reopened.close();
  });

  it("keeps a second writer out with a clear error", async () => {
    const dir = tempDir();
    const log = await open(dir);
    await expect(open(dir)).rejects.toThrow(LogLocked);
    await expect(open(dir)).rejects.toThrow(/already open for writing/);
    await log.close();
    await (await open(dir)).close();
  });

  it("takes over a lock left by a dead process, even one that had our pid (a restarted container)", async () => {
    const dir = tempDir();
    await (await open(dir)).close();
    const lockFile = join(dir, "log", "writer.lock");
    for (const pid of [process.pid, 2 ** 22 + 17]) {
      writeFileSync(lockFile, JSON.stringify({ pid, owner: "atelier before the restart" }));
      const log = await open(dir);
      expect(JSON.parse(readFileSync(lockFile, "utf8"))).toMatchObject({ pid: process.pid });
      await log.close();
    }
  });

  it("refuses unknown types and bad payloads with a typed error, leaving the bytes unchanged", async () => {
    const dir = tempDir();
    const log = await open(dir);
    await log.append([note("kept")]);
    const file = join(dir, "log", "0000000000000001.jsonl");
    const before = readFileSync(file);
    await expect(log.append([{ type: "no.such", entity: "x", payload: {} }])).rejects.toThrow(UnknownEventType);
    const bad = await log.append([note("fine"), { type: "lock.acquired", entity: "lock:a", payload: { file: "a", mode: "both", token: 1 } }]).catch((e) => e);
    expect(bad).toBeInstanceOf(InvalidEvent);
    expect(bad.path).toBe("payload.mode");
    await expect(log.append([{ type: "note.added", entity: "", payload: { text: "x" } }])).rejects.toThrow(/entity/);
    await expect(log.append([{ type: "note.added", entity: "n", payload: { text: "x", extra: 1 } }])).rejects.toThrow(/payload.extra/);
    expect(readFileSync(file).equals(before)).toBe(true);
    expect(log.head()).toBe(1);
    expect((await log.append([note("next")]))[0]!.seq).toBe(2);
    await log.close();
  });

  it("truncates a torn final line on open and reports it", async () => {
    const dir = tempDir();
    const log = await open(dir);
    await log.append([note("a"), note("b")]);
    await log.close();
    const file = join(dir, "log", "0000000000000001.jsonl");
    const whole = readFileSync(file);
    writeFileSync(file, Buffer.concat([whole, Buffer.from('{"seq":3,"ts":"2026-')]));
    const reopened = await open(dir);
    expect(reopened.recovery.truncated).toMatchObject({ offset: whole.length, bytes: 20 });
    expect(reopened.head()).toBe(2);
    expect(readFileSync(file).equals(whole)).toBe(true);
    expect((await reopened.append([note("c")]))[0]!.seq).toBe(3);
    await reopened.close();
  });

  it("fails closed on a flipped byte in the middle, naming file and seq", async () => {
    const { dir, file } = await closedLog(Array.from({ length: 10 }, (_, i) => `note ${i}`));
    const data = readFileSync(file);
    const lines = data.toString().split("\n");
    const offset = lines.slice(0, 4).join("\n").length + 1 + lines[4]!.indexOf("note 4") + 5;
    data[offset] = "X".charCodeAt(0);
    writeFileSync(file, data);
    const error = await open(dir).catch((e) => e);
    expect(error).toBeInstanceOf(LogCorrupted);
    expect(error).toMatchObject({ file, seq: 5 });
    expect(readFileSync(file).equals(data)).toBe(true);
  });

  it("verifies multi-byte text on its bytes, and catches a flip at every byte of a line", async () => {
    const { dir, file } = await closedLog(["plain", "naïve café ✓ 日本語 🎉", "last"]);
    const good = readFileSync(file);
    expect(scanLog(nodeStorage(), join(dir, "log"), "ws_test")).toMatchObject({ head: 3, torn: undefined });
    const second = good.indexOf(10) + 1;
    const end = good.indexOf(10, second);
    for (let at = second; at < end; at++) {
      const damaged = Buffer.from(good);
      damaged[at] = damaged[at]! ^ 0x01;
      writeFileSync(file, damaged);
      expect(() => scanLog(nodeStorage(), join(dir, "log"), "ws_test"), `flip at byte ${at - second}`).toThrow(LogCorrupted);
    }
  });

  it("refuses bytes that are not UTF-8 even where a lenient decoder would give the hashed text", async () => {
    const { dir, file } = await closedLog(["plain", "replacement \uFFFD here", "last"]);
    const good = readFileSync(file);
    const at = good.indexOf(Buffer.from("\uFFFD"));
    // A lone 0xFF decodes leniently to U+FFFD too: the same string, the same hash, other bytes.
    const damaged = Buffer.concat([good.subarray(0, at), Buffer.from([0xff]), good.subarray(at + 3)]);
    expect(damaged.toString("utf8")).toBe(good.toString("utf8"));
    writeFileSync(file, damaged);
    expect(() => scanLog(nodeStorage(), join(dir, "log"), "ws_test")).toThrow(/not valid UTF-8/);
    const verifier = new SegmentVerifier(file, 1, "ws_test");
    expect(() => verifier.push(damaged)).toThrow(/not valid UTF-8/);
  });

  it("fails closed when a whole line is missing from the middle", async () => {
    const { dir, file } = await closedLog(["n0", "n1", "n2", "n3", "n4"]);
    const lines = readFileSync(file, "utf8").split("\n");
    lines.splice(2, 1);
    writeFileSync(file, lines.join("\n"));
    await expect(open(dir)).rejects.toMatchObject({ _tag: "LogCorrupted", seq: 3 });
  });

  it("stops accepting appends after an fsync error until reopened", async () => {
    const storage = new MemoryStorage();
    const log = await open("/ws", { storage });
    await log.append([note("ok")]);
    storage.injectFault({ op: "sync", code: "EIO", afterOps: 0, persistent: false });
    await expect(log.append([note("lost")])).rejects.toThrow(LogFailed);
    await expect(log.append([note("after")])).rejects.toThrow(LogFailed);
    await log.close();
    expect(log.vouch()).toBeUndefined(); // what it wrote is no longer known to be on disk
    storage.killProcess();
    const reopened = await open("/ws", { storage });
    expect(reopened.head()).toBeGreaterThanOrEqual(1);
    await reopened.append([note("again")]);
  });

  it("loses nothing acknowledged across power loss, over many seeds", async () => {
    let tornTails = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const storage = new MemoryStorage();
      const random = seededRandom(seed);
      const acked = new Map<number, string>();
      for (let round = 0; round < 4; round++) {
        const log = await open("/ws", { storage, fsync: round % 2 ? "always" : "batch" });
        if (log.recovery.truncated) tornTails++;
        for (const e of log.read()) expect(acked.get(e.seq) ?? e.hash).toBe(e.hash);
        const pending = Array.from({ length: 20 }, (_, i) => log.append([note(`s${seed}r${round}i${i}`)]).then((es) => es.forEach((e) => acked.set(e.seq, e.hash))));
        // Crash after a random number of microtask turns: mid-write, mid-sync or after.
        for (let turns = nextInt(random, 0, 12); turns > 0; turns--) await Promise.resolve();
        storage.crash(random);
        await Promise.allSettled(pending);
      }
      const final = await open("/ws", { storage });
      const present = new Map([...final.read()].map((e) => [e.seq, e.hash]));
      for (const [seq, hash] of acked) expect(present.get(seq)).toBe(hash);
      await final.close();
    }
    // The crashes must really have cut writes short, or this test proves nothing.
    expect(tornTails).toBeGreaterThan(0);
  });

  it("keeps a handle open until every fdatasync on it has returned, even one a later sync committed", async () => {
    // Every sync goes to the pool; the second on each handle returns late, the others at once, and
    // one that returns after its handle was closed fails, as fdatasync on a closed descriptor does.
    const memory = new MemoryStorage();
    const storage: Storage = Object.create(memory, {
      openAppend: {
        value: (path: string, options?: { create?: boolean }) => {
          const file = memory.openAppend(path, options);
          let closed = false;
          let calls = 0;
          return Object.assign(Object.create(file), {
            syncBlocking: undefined,
            sync: async () => {
              // Not the first: that one opened the segment, a barrier no other sync overlaps.
              const slow = ++calls === 2;
              await file.sync();
              if (slow) await new Promise((r) => setTimeout(r, 30));
              if (closed) throw Object.assign(new Error("EBADF: bad file descriptor, fdatasync"), { code: "EBADF" });
            },
            close: () => {
              closed = true;
              file.close();
            },
          });
        },
      },
    });
    const log = await open(tempDir(), { storage, fsync: "batch" });
    // One append per turn: each is a cohort of its own, and later cohorts' syncs return before the first's.
    const appends: Promise<unknown>[] = [];
    for (let i = 0; i < 120; i++) {
      appends.push(log.append([note(`n${i}`)]));
      await new Promise((r) => setImmediate(r));
    }
    await Promise.all(appends);
    await log.close();
    // The first sync returns after the close only if the close did not wait for it: then it fails the log.
    await new Promise((r) => setTimeout(r, 60));
    expect(log.vouch()).toBeDefined();
  });

  it("syncs on its own thread again once a slow disk turns fast (fsync=always)", async () => {
    // A storage whose blocking fdatasync takes 2 ms for its first calls (a passing stall), then is instant.
    const memory = new MemoryStorage();
    let blockingCalls = 0;
    const slowFirst = 10;
    const storage: Storage = Object.create(memory, {
      openAppend: {
        value: (path: string, options?: { create?: boolean }) => {
          const file = memory.openAppend(path, options);
          return Object.assign(Object.create(file), {
            syncBlocking: () => {
              blockingCalls += 1;
              if (blockingCalls <= slowFirst) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2);
              return file.sync();
            },
          });
        },
      },
    });
    const log = await open(tempDir(), { storage, fsync: "always" });
    for (let i = 0; i < 200; i++) await log.append([note(String(i))]);
    await log.close();
    // The stall pushes the blocking estimate over budget (pool syncs take over); the fast pool syncs
    // that follow bring it back, and the thread syncs inline again.
    expect(blockingCalls).toBeGreaterThan(slowFirst + 50);
  });
});
