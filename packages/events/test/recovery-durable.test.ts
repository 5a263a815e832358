import { describe, expect, it } from "vitest";
import { MemoryStorage, openLog, seededRandom, VirtualClock } from "../src/index.ts";
import { note, testCatalogue } from "./helpers.ts";

// Found by the simulator (packages/sim, seed 49 of a 1,000-seed sweep, I2): an fsync failed (EIO),
// the host was killed and restarted; recovery replayed the written-but-unsynced lines as committed,
// the workspace acknowledged work built on them, and a power loss then took them back.
describe("log recovery", () => {
  it("makes the lines it recovers durable before serving them", async () => {
    const storage = new MemoryStorage();
    const options = { workspace: "ws_test", catalogue: testCatalogue, storage, clock: new VirtualClock(), random: seededRandom(1), fsync: "always" as const };
    const log = await openLog("/ws", options);
    await log.append([note("synced")]);
    storage.injectFault({ op: "sync", code: "EIO", afterOps: 0, persistent: false });
    await expect(log.append([note("written, sync failed")])).rejects.toThrow(/EIO/);
    storage.killProcess(); // the bytes stay in the page cache

    const recovered = await openLog("/ws", options);
    expect(recovered.head()).toBe(2);
    storage.crash(seededRandom(2), { keepTornPrefix: 0 }); // power loss: only synced bytes survive

    const after = await openLog("/ws", options);
    expect([...after.read()].map((e) => (e.payload as { text: string }).text)).toEqual(["synced", "written, sync failed"]);
    await after.close();
  });
});
