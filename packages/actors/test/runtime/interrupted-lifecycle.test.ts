import { describe, expect, it } from "vitest";
import { flush, harness } from "../harness.ts";

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
});
