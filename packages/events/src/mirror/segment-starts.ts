import { logDir, parseSegmentName } from "../log/segments.ts";
import type { Storage } from "../storage/storage.ts";

/**
 * Which events open a segment file of a workspace's log, learnt by listing its log folder. The log
 * creates a segment's file before it commits the segment's first event, so one listing taken at a
 * committed head answers for every seq up to that head; it is refreshed only past it.
 */
export class SegmentStarts {
  private readonly dir: string;
  private starts = new Set<number>();
  private listedThrough = 0;

  constructor(
    private readonly storage: Storage,
    workspaceDir: string,
  ) {
    this.dir = logDir(workspaceDir);
  }

  /** Whether event `seq` (≤ `head`, the log's committed head) is the first of its segment. */
  isStart(seq: number, head: number): boolean {
    if (seq > this.listedThrough) {
      const names = this.storage.list(this.dir);
      this.starts = new Set(names.map(parseSegmentName).filter((s): s is number => s !== undefined));
      this.listedThrough = head;
    }
    return this.starts.has(seq);
  }
}
