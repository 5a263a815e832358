import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { gzipMembers } from "../../src/archive/members.ts";
import { decodeFile } from "../../src/archive/streams.ts";
import { tempDir } from "../helpers.ts";

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

/** ~11 MiB of JSONL-like lines: three members' worth, the last one short. */
const lines = (): Buffer => {
  const out: string[] = [];
  for (let i = 0, length = 0; length < 11.5 * 2 ** 20; i++) {
    out.push(`{"seq":${i},"text":"line ${i} ${"ab".repeat(i % 97)}"}\n`);
    length += out.at(-1)!.length;
  }
  return Buffer.from(out.join(""));
};

/** How many times the gzip magic (1f 8b 08) occurs: at least once per member. */
const memberCount = (gz: Buffer): number => {
  let count = 0;
  for (let at = gz.indexOf(Buffer.from([0x1f, 0x8b, 0x08])); at !== -1; at = gz.indexOf(Buffer.from([0x1f, 0x8b, 0x08]), at + 1)) count++;
  return count;
};

describe("gzip in parallel members", () => {
  it("writes a gzip file of several members that gunzips to the file, with both sides hashed and the content tapped in order", async () => {
    const dir = tempDir();
    const content = lines();
    writeFileSync(join(dir, "in.jsonl"), content);
    const tapped: Buffer[] = [];
    const coded = await gzipMembers(join(dir, "in.jsonl"), join(dir, "out.gz"), 1, (chunk) => void tapped.push(Buffer.from(chunk)));
    const stored = readFileSync(join(dir, "out.gz"));
    expect(memberCount(stored)).toBeGreaterThanOrEqual(3);
    expect(gunzipSync(stored).equals(content)).toBe(true);
    expect(Buffer.concat(tapped).equals(content)).toBe(true);
    expect(coded).toEqual({ stored: { size: stored.length, sha256: sha256(stored) }, content: { size: content.length, sha256: sha256(content) } });
    // The archive's own decoder reads it back as one stream.
    const decoded = await decodeFile(join(dir, "out.gz"), join(dir, "back.jsonl"), "gzip");
    expect(decoded.content).toEqual(coded.content);
    // Bytes in memory give the same file.
    const fromBytes = await gzipMembers(content, join(dir, "out2.gz"), 1);
    expect(fromBytes).toEqual(coded);
  });

  it("gzips an empty file as one empty member", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "empty"), "");
    const coded = await gzipMembers(join(dir, "empty"), join(dir, "empty.gz"), 1);
    expect(gunzipSync(readFileSync(join(dir, "empty.gz"))).length).toBe(0);
    expect(coded.content).toEqual({ size: 0, sha256: sha256(Buffer.alloc(0)) });
  });

  it("rejects with the tap's error once the members in flight have settled", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "in.jsonl"), lines());
    let seen = 0;
    const failing = gzipMembers(join(dir, "in.jsonl"), join(dir, "out.gz"), 1, () => {
      if (++seen === 2) throw new Error("line 7 is corrupt");
    });
    await expect(failing).rejects.toThrow("line 7 is corrupt");
  });
});
