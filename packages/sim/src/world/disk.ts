import { MemoryStorage, type AppendFile } from "@atelier/events";

/**
 * The in-memory disk of @atelier/events (its durability model: unsynced bytes and never-synced
 * entries are at risk), plus one hook: a fault can wait for the next append and strike between
 * the write and its fsync, which is where a crash tears the final record (F1 mid-append, F3).
 */
export class SimDisk extends MemoryStorage {
  private armed: { strike: () => void; match: (data: Uint8Array) => boolean } | undefined;

  /** Runs `strike` right after the next append (whose bytes `match`), before anything can sync it. */
  onNextAppend(strike: () => void, match: (data: Uint8Array) => boolean = () => true): void {
    this.armed = { strike, match };
  }

  disarm(): void {
    this.armed = undefined;
  }

  override openAppend(path: string, options?: { create?: boolean }): AppendFile {
    const file = super.openAppend(path, options);
    return {
      ...file,
      append: (data) => {
        file.append(data);
        const armed = this.armed;
        if (!armed?.match(data)) return;
        this.armed = undefined;
        // A microtask queued now runs before the log's fsync continuation: the bytes are written, not synced.
        queueMicrotask(armed.strike);
      },
    };
  }
}
