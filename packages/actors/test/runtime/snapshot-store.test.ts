import { describe, expect, it } from "vitest";
import { MemoryStorage } from "@atelier/events";
import { folderSnapshotStore } from "@atelier/actors";

describe("the folder snapshot store of hibernation", () => {
  it("keeps the newest two snapshots of a workspace by seq, and leaves other files and workspaces alone", async () => {
    const storage = new MemoryStorage();
    const store = folderSnapshotStore(storage, "/ws/archive");
    await store.put("ws_b/snapshots/7.json", new TextEncoder().encode("b7"));
    storage.ensureDir("/ws/archive/ws_a/snapshots");
    await storage.writeFileAtomic("/ws/archive/ws_a/snapshots/notes.txt", new TextEncoder().encode("not a snapshot"));
    // 99999 < 100003 by seq, though not by name.
    for (const seq of [99_991, 99_999, 100_003, 100_012]) await store.put(`ws_a/snapshots/${seq}.json`, new TextEncoder().encode(String(seq)));
    expect(storage.list("/ws/archive/ws_a/snapshots")).toEqual(["100003.json", "100012.json", "notes.txt"]);
    expect(new TextDecoder().decode(await store.get("ws_a/snapshots/100012.json"))).toBe("100012");
    expect(await store.get("ws_a/snapshots/99999.json")).toBeUndefined();
    expect(storage.list("/ws/archive/ws_b/snapshots")).toEqual(["7.json"]);
  });
});
