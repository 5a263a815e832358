import { describe, expect, it } from "vitest";
import { mapLargestFirst } from "../../src/archive/streams.ts";

describe("mapLargestFirst", () => {
  it("starts the largest items first and returns results in the items' order", async () => {
    const items = [{ name: "snapshot", size: 2 }, { name: "log", size: 40 }, { name: "db", size: 26 }, { name: "blob", size: 2 }];
    const started: string[] = [];
    const results = await mapLargestFirst(items, (item) => item.size, 1, async (item, index) => {
      started.push(item.name);
      await new Promise((resolve) => setTimeout(resolve, 1));
      return `${index}:${item.name}`;
    });
    expect(started).toEqual(["log", "db", "snapshot", "blob"]);
    expect(results).toEqual(["0:snapshot", "1:log", "2:db", "3:blob"]);
  });

  it("stops starting items after a failure and rethrows it", async () => {
    const started: number[] = [];
    const run = mapLargestFirst([1, 3, 2], (n) => n, 1, async (n) => {
      started.push(n);
      if (n === 3) throw new Error("part 3 failed");
      return n;
    });
    await expect(run).rejects.toThrow("part 3 failed");
    expect(started).toEqual([3]);
  });
});
