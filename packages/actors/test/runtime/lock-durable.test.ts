import { describe, expect, it } from "vitest";
import { seededRandom } from "@atelier/events";
import { harness } from "../harness.ts";

// The lock manager decides from the optimistic working state, which runs ahead of the log. Any
// answer it gives (granted, busy, fence ok) must wait until the state it read is durable: if the
// append under it fails, a "you already hold it" would leave an agent writing under a lock the
// recovered log never granted, while another agent is granted the same file.
describe("runtime: lock answers come from durable state only", () => {
  it("a repeated acquire is not answered 'granted' before the first grant is durable, and fails with it", async () => {
    const h = harness();
    const ws = await h.open();
    h.storage.injectFault({ op: "sync", code: "EIO", afterOps: 0, persistent: false });
    const first = ws.locks.acquire("a.ts", "claude", "exclusive");
    const retry = ws.locks.acquire("a.ts", "claude", "exclusive");
    const other = ws.locks.acquire("a.ts", "gemini", "exclusive");
    await expect(first).rejects.toThrow(/EIO/);
    await expect(retry).rejects.toMatchObject({ _tag: "CommandRejected", code: "unavailable" });
    await expect(other).rejects.toMatchObject({ _tag: "CommandRejected", code: "unavailable" });

    h.storage.crash(seededRandom(3));
    const again = await h.open();
    expect(again.locks.query("a.ts").locked).toBe(false);
    await expect(again.locks.acquire("a.ts", "gemini", "exclusive")).resolves.toMatchObject({ granted: true, token: 1 });
    await again.close();
  });

  it("answers from the working state once what it read is durable (same tick: granted, then busy)", async () => {
    const ws = await harness().open();
    const [first, retry, other] = await Promise.all([
      ws.locks.acquire("a.ts", "claude", "exclusive"),
      ws.locks.acquire("a.ts", "claude", "exclusive"),
      ws.locks.acquire("a.ts", "gemini", "exclusive"),
    ]);
    expect(first).toMatchObject({ granted: true, token: 1 });
    expect(retry).toEqual(first);
    expect(other).toEqual({ granted: false, reason: "busy" });
    await ws.close();
  });

  it("the fence accepts a token only once its grant is durable, and not while its release is on its way", async () => {
    const ws = await harness().open();
    const grant = ws.locks.acquire("a.ts", "claude", "exclusive");
    expect(ws.locks.checkFence("a.ts", "claude", 1)).toBe(false);
    await grant;
    expect(ws.locks.checkFence("a.ts", "claude", 1)).toBe(true);
    const release = ws.locks.release("a.ts", "claude");
    expect(ws.locks.checkFence("a.ts", "claude", 1)).toBe(false);
    await release;
    expect(ws.locks.checkFence("a.ts", "claude", 1)).toBe(false);
    await ws.close();
  });
});
