import { describe, expect, it } from "vitest";
import { replay } from "@atelier/actors";
import { retainedSnapshots } from "../../src/runtime/snapshots.ts";
import { harness, logOf } from "../harness.ts";

const file = (seq: number) => `${String(seq).padStart(16, "0")}.json`;

describe("runtime: snapshots kept as landmarks of recent history", () => {
  it("keeps the newest two and the first of each of the newest four 25k-seq blocks", () => {
    const names = Array.from({ length: 130 }, (_, i) => file((i + 1) * 1000));
    expect([...retainedSnapshots(names)].sort()).toEqual([50_000, 75_000, 100_000, 125_000, 129_000, 130_000].map(file));
    expect([...retainedSnapshots([file(7), file(9)])].sort()).toEqual([file(7), file(9)]);
    expect(retainedSnapshots([])).toEqual(new Set());
  });

  it("snapshotNear gives the newest kept world at or before a seq, else the oldest; each equals the log folded to its seq", async () => {
    const h = harness();
    const ws = await h.open({ snapshotEvery: 5 });
    for (let i = 0; i < 40; i++) await ws.context.set(`k${i}`, i, "ana");
    await ws.snapshot();
    const kept = h.storage.list("/ws/snapshots").map((n) => Number(n.slice(0, -5)));
    // The first snapshot is its block's landmark; the newest two are kept as before.
    expect(kept.length).toBe(3);
    const [first, middle, newest] = kept as [number, number, number];
    const log = logOf(ws);
    const foldedTo = (seq: number) => JSON.stringify(replay(log.filter((e) => e.seq <= seq)));

    expect(ws.snapshotNear(ws.log.head())!.seq).toBe(newest);
    expect(ws.snapshotNear(newest - 1)!.seq).toBe(middle);
    expect(ws.snapshotNear(middle - 1)!.seq).toBe(first);
    expect(ws.snapshotNear(first - 1)!.seq).toBe(first);
    for (const seq of kept) expect(JSON.stringify(ws.snapshotNear(seq))).toBe(foldedTo(seq));
    await ws.close();
  });
});

describe("runtime: snapshot writes slower than appends", () => {
  it("queue at most one write, which takes the newest state when it starts", async () => {
    const h = harness();
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const written: number[] = [];
    const write = h.storage.writeFileAtomic.bind(h.storage);
    h.storage.writeFileAtomic = async (path, data) => {
      if (path.includes("/snapshots/")) {
        await gate;
        written.push(Number(path.split("/").at(-1)!.slice(0, 16)));
      }
      return write(path, data);
    };
    const ws = await h.open({ snapshotEvery: 5 });
    for (let i = 0; i < 50; i++) await ws.context.set(`k${i}`, i, "ana");
    const last = ws.snapshot();
    release();
    await last;
    // Ten snapshots were asked for while the first write waited: one more write follows it, at the head.
    expect(written.length).toBe(2);
    expect(written.at(-1)).toBe(ws.log.head());
    await ws.close();
  });
});
