import { describe, expect, it } from "vitest";
import { replay } from "@atelier/actors";
import { harness, logOf } from "../harness.ts";

// Found by the simulator (packages/sim, F4 on snapshot files): a bit flip inside a snapshot's
// world still parsed as JSON and its hash field still matched the log, so recovery loaded damaged
// state silently ("agentI$" for "agentId": I15) or crashed on an unknown state name ("idlg": I3).
describe("runtime: a snapshot damaged inside its world", () => {
  it("is refused by its digest; recovery replays the log instead", async () => {
    const h = harness();
    const ws = await h.open({ snapshotEvery: 5 });
    await ws.agents.register({ agentId: "claude", vendor: "claude", model: "opus" });
    await ws.close();
    const name = h.storage.list("/ws/snapshots").at(-1)!;
    const path = `/ws/snapshots/${name}`;
    const text = new TextDecoder().decode(h.storage.readFile(path));
    h.storage.flipBit(path, text.indexOf('"agentId"') + 7, 0); // "agentId" → "agentIe"

    const again = await h.open();
    expect(again.recovery.snapshotSeq).toBe(0);
    expect(JSON.stringify(again.state())).toBe(JSON.stringify(replay(logOf(again))));
    await again.close();
  });
});
