import { Readable } from "node:stream";
import { Effect } from "effect";
import { describe, expect, it } from "vitest";
import {
  makeObjectStore,
  NotFound,
  ObjectStore,
  objectStoreClient,
  objectStoreLayer,
  seededRandom,
  Unavailable,
  type ObjectInfo,
  type ObjectStoreDriver,
} from "../../src/index.ts";

const info: ObjectInfo = { key: "k", size: 1, version: "1", sha256: undefined };

/** A driver whose `head` answers from a script, one entry per call; the rest is unused here. */
const scripted = (script: Array<"ok" | "unavailable" | "missing" | "throw" | "hang">) => {
  const calls: AbortSignal[] = [];
  const driver: ObjectStoreDriver = {
    name: "scripted",
    head: (key, signal) => {
      calls.push(signal);
      const step = script[Math.min(calls.length - 1, script.length - 1)];
      if (step === "ok") return Promise.resolve(info);
      if (step === "missing") return Promise.reject(new NotFound({ store: "scripted", key }));
      if (step === "throw") return Promise.reject(new Error("socket hang up"));
      if (step === "hang") return new Promise<never>(() => {});
      return Promise.reject(new Unavailable({ store: "scripted", op: "head", key, reason: "503" }));
    },
    put: () => Promise.resolve(info),
    open: () => Promise.resolve(Readable.from([])),
    list: () => Promise.resolve([]),
    delete: () => Promise.resolve(),
  };
  return { driver, calls };
};

const fast = { baseDelayMs: 1, maxDelayMs: 4, random: seededRandom(7) };

describe("object store retries and timeouts", () => {
  it("retries Unavailable with backoff until it succeeds", async () => {
    const { driver, calls } = scripted(["unavailable", "unavailable", "ok"]);
    await expect(objectStoreClient(makeObjectStore(driver, fast)).head("k")).resolves.toEqual(info);
    expect(calls).toHaveLength(3);
  });

  it("does not retry NotFound", async () => {
    const { driver, calls } = scripted(["missing", "ok"]);
    await expect(objectStoreClient(makeObjectStore(driver, fast)).head("k")).rejects.toBeInstanceOf(NotFound);
    expect(calls).toHaveLength(1);
  });

  it("gives up after the configured attempts with the last Unavailable", async () => {
    const { driver, calls } = scripted(["unavailable"]);
    const error = await objectStoreClient(makeObjectStore(driver, { ...fast, attempts: 4 })).head("k").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Unavailable);
    expect(calls).toHaveLength(4);
  });

  it("treats an unclassified driver failure as transient", async () => {
    const { driver, calls } = scripted(["throw", "ok"]);
    await expect(objectStoreClient(makeObjectStore(driver, fast)).head("k")).resolves.toEqual(info);
    expect(calls).toHaveLength(2);
  });

  it("times an attempt out, aborts its request and retries", async () => {
    const { driver, calls } = scripted(["hang", "ok"]);
    await expect(objectStoreClient(makeObjectStore(driver, { ...fast, timeoutMs: 30 })).head("k")).resolves.toEqual(info);
    expect(calls).toHaveLength(2);
    expect(calls[0]!.aborted).toBe(true);
  });

  it("reports a timeout that never clears as Unavailable naming the limit", async () => {
    const { driver } = scripted(["hang"]);
    const error = await objectStoreClient(makeObjectStore(driver, { ...fast, timeoutMs: 20, attempts: 2 })).head("k").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Unavailable);
    expect((error as Unavailable).message).toContain("timed out after 20 ms");
  });

  it("is an Effect service whose typed errors can be caught by tag", async () => {
    const { driver } = scripted(["missing"]);
    const program = Effect.gen(function* () {
      const store = yield* ObjectStore;
      return yield* store.head("k").pipe(Effect.catchTag("NotFound", (e) => Effect.succeed(`absent: ${e.key}`)));
    });
    await expect(Effect.runPromise(program.pipe(Effect.provide(objectStoreLayer(driver, fast))))).resolves.toBe("absent: k");
  });
});
