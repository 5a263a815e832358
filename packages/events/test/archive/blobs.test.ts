import { Schema } from "effect";
import { describe, expect, it } from "vitest";
import { BlobCorrupted, BlobRef, BlobStore, MemoryStorage, nodeStorage, sha256Hex } from "../../src/index.ts";
import { tempDir } from "../helpers.ts";

const bytes = (s: string) => new TextEncoder().encode(s);

describe.each([
  ["node", () => ({ storage: nodeStorage(), dir: tempDir() })],
  ["memory", () => ({ storage: new MemoryStorage(), dir: "/ws" })],
] as const)("blob store on %s storage", (_label, make) => {
  it("stores content once under its sha256 and reads it back", async () => {
    const { storage, dir } = make();
    const blobs = new BlobStore(dir, storage);
    const first = await blobs.put(bytes("tool output"));
    expect(first).toEqual({ sha256: sha256Hex(bytes("tool output")), size: 11, created: true });
    expect(await blobs.put(bytes("tool output"))).toMatchObject({ sha256: first.sha256, created: false });
    expect(storage.exists(`${dir}/blobs/${first.sha256.slice(0, 2)}/${first.sha256}`)).toBe(true);
    expect(new TextDecoder().decode(blobs.get(first.sha256))).toBe("tool output");
    expect(blobs.get(sha256Hex(bytes("never stored")))).toBeUndefined();
  });

  it("shares one write between concurrent puts of the same content", async () => {
    const { storage, dir } = make();
    const blobs = new BlobStore(dir, storage);
    const results = await Promise.all([blobs.put(bytes("same")), blobs.put(bytes("same")), blobs.put(bytes("other"))]);
    expect(results.map((r) => r.created)).toEqual([true, false, true]);
    expect(blobs.list()).toEqual(
      [bytes("same"), bytes("other")].map((b) => ({ sha256: sha256Hex(b), size: b.length })).sort((a, b) => (a.sha256 < b.sha256 ? -1 : 1)),
    );
    blobs.remove(results[0]!.sha256);
    expect(blobs.has(results[0]!.sha256)).toBe(false);
  });
});

describe("blob integrity", () => {
  it("refuses to hand out a blob whose bytes no longer hash to its name, and verify() finds it", async () => {
    const storage = new MemoryStorage();
    const blobs = new BlobStore("/ws", storage);
    const { sha256 } = await blobs.put(bytes("precious"));
    await blobs.put(bytes("fine"));
    storage.flipBit(`/ws/blobs/${sha256.slice(0, 2)}/${sha256}`, 3);
    expect(() => blobs.get(sha256)).toThrow(BlobCorrupted);
    expect(blobs.verify().map((e) => e.sha256)).toEqual([sha256]);
  });

  it("gives events a BlobRef schema that accepts only a sha256 and a size", () => {
    const decode = Schema.decodeUnknownSync(BlobRef);
    expect(decode({ sha256: "a".repeat(64), size: 3 })).toEqual({ sha256: "a".repeat(64), size: 3 });
    expect(() => decode({ sha256: "../etc/passwd", size: 3 })).toThrow();
    expect(() => decode({ sha256: "a".repeat(64), size: -1 })).toThrow();
  });
});
