import { describe, expect, it } from "vitest";
import { joinPath, logDir } from "@atelier/events";
import { flush, harness, openWithRunner, recordingRunner } from "../harness.ts";

// Found by the simulator (packages/sim, seed 12 of the first sweep, shrunk to 3 steps): a power
// loss kept a prefix of the dispatch transaction — `prompt.started` without `agent.work_started`.
// ADR 0001 allows any prefix to survive; after recovery the queue said "processing" while the agent
// was idle, so no disconnect ever requeued the prompt and it never ran (I21).
describe("runtime: recovery after a transaction was cut short", () => {
  it("requeues a prompt that its queue calls processing but its agent is not working on", async () => {
    const h = harness();
    const { ws, runner: first } = await openWithRunner(h);
    const { promptId } = await ws.prompts.enqueue("claude", { text: "x", author: "ana" });
    expect(first.dispatched.map((p) => p.promptId)).toEqual([promptId]);
    // Keep the log up to prompt.started: drop the rest of that transaction, as a torn write may.
    const lines = [...ws.log.readRaw()];
    const started = lines.findIndex(({ line }) => line.includes('"type":"prompt.started"'));
    const keep = lines.slice(0, started + 1).reduce((n, { line }) => n + Buffer.byteLength(line) + 1, 0);
    h.storage.killProcess();
    const segment = joinPath(logDir("/ws"), h.storage.list(logDir("/ws")).find((n) => n.endsWith(".jsonl"))!);
    await h.storage.openAppend(segment).truncate(keep);
    for (const name of h.storage.list("/ws/snapshots")) h.storage.remove(joinPath("/ws/snapshots", name));

    const again = await h.open();
    const second = recordingRunner();
    await again.runners.connect("claude", second.sink);
    await flush();
    expect(second.dispatched.map((p) => p.promptId)).toEqual([promptId]);
    expect(again.prompts.get("claude")!.processing).toBe(promptId);
    await again.close();
  });
});
