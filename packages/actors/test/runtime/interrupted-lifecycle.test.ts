import { describe, expect, it } from "vitest";
import { flush, harness, openWithRunner } from "../harness.ts";

// Found by the simulator (packages/sim, seed 3 of the first sweep): the host crashed while the
// workspace was hibernating; it recovered as "hibernating" with no effect left to finish it, and
// every prompt queued after that waited forever (I21).
describe("runtime: a lifecycle effect interrupted by a crash", () => {
  it("hibernation is finished after recovery", async () => {
    const h = harness();
    const ws = await h.open({ snapshotStore: { put: () => new Promise<void>(() => undefined), get: async () => undefined } });
    await ws.lifecycle.hibernate("ana");
    await flush();
    expect(ws.status()).toBe("hibernating");
    h.storage.killProcess();
    const again = await h.open();
    await flush(6);
    expect(again.status()).toBe("hibernated");
    await again.close();
  });

  it("a resume is finished after recovery", async () => {
    const h = harness();
    const ws = await h.open();
    await ws.lifecycle.hibernate("ana");
    await flush(6);
    expect(ws.status()).toBe("hibernated");
    await ws.close();
    const hung = await h.open({ snapshotStore: { put: async () => undefined, get: () => new Promise(() => undefined) } });
    await hung.lifecycle.resume();
    await flush();
    expect(hung.status()).toBe("resuming");
    h.storage.killProcess();
    const again = await h.open();
    await flush(6);
    expect(again.status()).toBe("active");
    await again.close();
  });

  // Found by the simulator's terminal phase: the teardown's failure was an unhandled rejection,
  // which ends a Node process (the whole gateway) by default.
  it("a teardown the disk fails is no unhandled rejection, and the next open finishes it", async () => {
    const h = harness();
    const { ws } = await openWithRunner(h);
    const { promptId } = await ws.prompts.enqueue("claude", { text: "t", author: "ana" });
    await flush(6);
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => void unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      // The request's append is written; the teardown's (runners off, prompts cancelled) is not.
      h.storage.injectFault({ op: "append", code: "EIO", afterOps: 1, persistent: false });
      await ws.lifecycle.terminate("ana");
      await flush(6);
      expect(ws.status()).toBe("terminating");
      expect(unhandled).toEqual([]);
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
    h.storage.clearFaults();
    h.storage.killProcess();
    const again = await h.open();
    await flush(6);
    expect(again.status()).toBe("terminated");
    expect(again.prompts.get("claude")).toMatchObject({ processing: null, queued: [] });
    const cancelled = [...again.log.read()].find((e) => e.type === "prompt.cancelled");
    expect(cancelled?.payload).toMatchObject({ promptId, reason: "workspace_terminated" });
    await again.close();
  });
});
