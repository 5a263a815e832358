import { describe, expect, it } from "vitest";
import { harness } from "../harness.ts";

// Found by the simulator (packages/sim, seed 3 of the first sweep): a client retried an enqueue
// whose first attempt was still on its way to disk; the retry was answered "duplicate" from the
// optimistic working state, then the disk filled up and the prompt was never stored (I12).
describe("runtime: an idempotent enqueue retry", () => {
  it("is not acknowledged before the first attempt is durable, and fails with it", async () => {
    const h = harness();
    const ws = await h.open();
    await ws.agents.register({ agentId: "claude", vendor: "claude", model: "opus" });
    h.storage.injectFault({ op: "sync", code: "ENOSPC", afterOps: 0, persistent: true });
    const first = ws.prompts.enqueue("claude", { text: "x", author: "ana", clientRequestId: "req-1" });
    const retry = ws.prompts.enqueue("claude", { text: "x", author: "ana", clientRequestId: "req-1" });
    await expect(first).rejects.toThrow(/ENOSPC/);
    await expect(retry).rejects.toMatchObject({ _tag: "CommandRejected", code: "unavailable" });
  });

  it("is answered with the first prompt once that is durable", async () => {
    const ws = await harness().open();
    await ws.agents.register({ agentId: "claude", vendor: "claude", model: "opus" });
    const first = ws.prompts.enqueue("claude", { text: "x", author: "ana", clientRequestId: "req-1" });
    const retry = ws.prompts.enqueue("claude", { text: "x", author: "ana", clientRequestId: "req-1" });
    const [a, b] = await Promise.all([first, retry]);
    expect(b).toEqual({ promptId: a.promptId, duplicate: true });
    await ws.close();
  });
});
