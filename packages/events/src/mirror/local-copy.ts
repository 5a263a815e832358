/**
 * A workspace folder written from JetStream rather than by the log: every line is checked (dense
 * seq, workspace id, hash chained to its predecessor) before it is kept, and segments are split
 * where the original log split them. The folder is a valid log that `openLog` accepts later.
 */
import { LogCorrupted } from "../errors.ts";
import { lineHashMatches } from "../log/encode.ts";
import { parseLine } from "../log/reader.ts";
import { logDir, segmentName } from "../log/segments.ts";
import { scanLog } from "../log/verify.ts";
import { joinPath, type AppendFile, type Storage, type StorageLock } from "../storage/storage.ts";

export class LocalCopy {
  private readonly dir: string;
  private readonly lock: StorageLock;
  private active: AppendFile | undefined;
  /** Segments written since the last flush, synced and closed by it. */
  private rolled: AppendFile[] = [];
  private buffer: string[] = [];
  private created = false;
  private lastHash: string;
  head: number;

  /** Takes the folder's writer lock and verifies what it already holds (truncating a torn tail). */
  static async open(storage: Storage, workspaceDir: string, workspace: string, owner: string): Promise<LocalCopy> {
    const dir = logDir(workspaceDir);
    storage.ensureDir(dir);
    const lock = storage.acquireLock(joinPath(dir, "writer.lock"), owner);
    try {
      const scan = scanLog(storage, dir, workspace);
      const active = scan.segments.at(-1) ? storage.openAppend(scan.segments.at(-1)!.path) : undefined;
      if (scan.torn) await active!.truncate(scan.torn.offset);
      return new LocalCopy(storage, dir, workspace, lock, active, scan.head, scan.lastHash);
    } catch (error) {
      lock.release();
      throw error;
    }
  }

  private constructor(
    private readonly storage: Storage,
    dir: string,
    private readonly workspace: string,
    lock: StorageLock,
    active: AppendFile | undefined,
    head: number,
    lastHash: string,
  ) {
    this.dir = dir;
    this.lock = lock;
    this.active = active;
    this.head = head;
    this.lastHash = lastHash;
  }

  /**
   * Verifies and buffers one stored line. Events the copy already holds are skipped, except that
   * the last one must be the very event the copy ends with.
   */
  add(line: string, segmentStart: boolean): void {
    const record = parseLine(line);
    const seq = record.seq;
    const fail = (reason: string): LogCorrupted => new LogCorrupted(`JetStream ${this.workspace}`, seq, reason);
    if (!Number.isSafeInteger(seq) || seq < 1) throw fail("message has no valid seq");
    if (seq <= this.head) {
      if (seq === this.head && record.hash !== this.lastHash) throw fail("differs from the local copy's last event");
      return;
    }
    if (seq !== this.head + 1) throw fail(`JetStream skips from seq ${this.head} to ${seq}`);
    if (record.ws !== this.workspace) throw fail(`line belongs to workspace ${record.ws}`);
    if (!lineHashMatches(line, this.lastHash, record.hash)) throw fail("hash does not match the line and its predecessor");
    if (!this.active || segmentStart) this.roll(seq);
    this.buffer.push(line, "\n");
    this.head = seq;
    this.lastHash = record.hash;
  }

  /** Makes everything added durable. */
  async flush(): Promise<void> {
    this.write();
    for (const file of this.rolled.splice(0)) {
      await file.sync();
      file.close();
    }
    await this.active?.sync();
    if (this.created) {
      this.created = false;
      await this.storage.syncDir(this.dir);
    }
  }

  async close(): Promise<void> {
    try {
      await this.flush();
    } finally {
      this.active?.close();
      this.active = undefined;
      this.lock.release();
    }
  }

  private roll(firstSeq: number): void {
    this.write();
    if (this.active) this.rolled.push(this.active);
    this.active = this.storage.openAppend(joinPath(this.dir, segmentName(firstSeq)), { create: true });
    this.created = true;
  }

  private write(): void {
    if (this.buffer.length === 0) return;
    this.active!.append(Buffer.from(this.buffer.join("")));
    this.buffer = [];
  }
}
