import { describe, expect, it } from "vitest";
import { LogLocked, MemoryStorage, nodeStorage, seededRandom, type Storage } from "../src/index.ts";
import { tempDir } from "./helpers.ts";

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array | undefined) => (b ? new TextDecoder().decode(b) : undefined);

/** One suite, every driver: what the log relies on must hold for each. */
const drivers: Array<[string, () => { storage: Storage; root: string }]> = [
  ["node", () => ({ storage: nodeStorage(), root: tempDir() })],
  ["memory", () => ({ storage: new MemoryStorage(), root: "/ws" })],
];

describe.each(drivers)("storage conformance: %s", (_name, make) => {
  it("appends, reads back and reports sizes", async () => {
    const { storage, root } = make();
    storage.ensureDir(`${root}/log`);
    const file = storage.openAppend(`${root}/log/a.jsonl`, { create: true });
    file.append(bytes("hello\n"));
    file.append(bytes("world\n"));
    await file.sync();
    expect(file.size()).toBe(12);
    expect(text(file.read(6, 6))).toBe("world\n");
    expect(storage.fileSize(`${root}/log/a.jsonl`)).toBe(12);
    expect(text(storage.readRange(`${root}/log/a.jsonl`, 0, 5))).toBe("hello");
    expect(text(storage.readFile(`${root}/log/a.jsonl`))).toBe("hello\nworld\n");
    file.close();
  });

  it("lists folder entries sorted and answers exists", async () => {
    const { storage, root } = make();
    storage.ensureDir(`${root}/d`);
    for (const name of ["b", "a", "c"]) storage.openAppend(`${root}/d/${name}`, { create: true }).close();
    expect(storage.list(`${root}/d`)).toEqual(["a", "b", "c"]);
    expect(storage.list(`${root}/missing`)).toEqual([]);
    expect(storage.exists(`${root}/d/a`)).toBe(true);
    storage.remove(`${root}/d/a`);
    expect(storage.exists(`${root}/d/a`)).toBe(false);
  });

  it("refuses to open a missing file without create", () => {
    const { storage, root } = make();
    expect(() => storage.openAppend(`${root}/nope`)).toThrow();
  });

  it("truncates durably", async () => {
    const { storage, root } = make();
    storage.ensureDir(root);
    const file = storage.openAppend(`${root}/t`, { create: true });
    file.append(bytes("abcdef"));
    await file.truncate(3);
    expect(file.size()).toBe(3);
    expect(text(storage.readFile(`${root}/t`))).toBe("abc");
    file.append(bytes("X"));
    expect(text(storage.readFile(`${root}/t`))).toBe("abcX");
  });

  it("writes whole files atomically, replacing the old content", async () => {
    const { storage, root } = make();
    storage.ensureDir(root);
    await storage.writeFileAtomic(`${root}/snap.json`, bytes("one"));
    await storage.writeFileAtomic(`${root}/snap.json`, bytes("two"));
    expect(text(storage.readFile(`${root}/snap.json`))).toBe("two");
    expect(storage.list(root)).toEqual(["snap.json"]);
  });

  it("lets one writer hold a lock and frees it on release", () => {
    const { storage, root } = make();
    storage.ensureDir(root);
    const lock = storage.acquireLock(`${root}/writer.lock`, "first");
    expect(() => storage.acquireLock(`${root}/writer.lock`, "second")).toThrow(LogLocked);
    lock.release();
    storage.acquireLock(`${root}/writer.lock`, "second").release();
  });
});

describe("memory storage durability model", () => {
  it("keeps synced bytes across a crash and at most a prefix of the rest", async () => {
    const storage = new MemoryStorage();
    storage.ensureDir("/w");
    const file = storage.openAppend("/w/f", { create: true });
    await storage.syncDir("/w");
    file.append(bytes("durable\n"));
    await file.sync();
    file.append(bytes("pending-bytes\n"));
    storage.crash(seededRandom(7), { keepTornPrefix: 1 });
    const after = text(storage.readFile("/w/f"))!;
    expect(after.startsWith("durable\n")).toBe(true);
    expect("durable\npending-bytes\n".startsWith(after)).toBe(true);
    expect(() => file.append(bytes("x"))).toThrow(/EBADF/);
  });

  it("loses files whose folder entry was never synced", async () => {
    const storage = new MemoryStorage();
    storage.ensureDir("/w");
    const file = storage.openAppend("/w/new", { create: true });
    file.append(bytes("x"));
    await file.sync();
    storage.crash(seededRandom(1));
    expect(storage.exists("/w/new")).toBe(false);
  });

  it("injects EIO once, or persistently", async () => {
    const storage = new MemoryStorage();
    storage.ensureDir("/w");
    const file = storage.openAppend("/w/f", { create: true });
    storage.injectFault({ op: "sync", code: "EIO", afterOps: 1, persistent: false });
    await file.sync();
    await expect(file.sync()).rejects.toThrow(/EIO/);
    await file.sync();
    storage.injectFault({ op: "append", code: "EIO", afterOps: 0, persistent: true });
    expect(() => file.append(bytes("a"))).toThrow(/EIO/);
    expect(() => file.append(bytes("b"))).toThrow(/EIO/);
    expect(storage.faultsFired).toBe(3);
  });

  it("fails appends past its capacity with ENOSPC", () => {
    const storage = new MemoryStorage();
    storage.capacityBytes = 4;
    storage.ensureDir("/w");
    const file = storage.openAppend("/w/f", { create: true });
    file.append(bytes("abcd"));
    expect(() => file.append(bytes("e"))).toThrow(/ENOSPC/);
  });
});
