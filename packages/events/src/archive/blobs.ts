import { createHash } from "node:crypto";
import { Schema } from "effect";
import { nodeStorage } from "../storage/node.ts";
import { joinPath, type Storage } from "../storage/storage.ts";
import { BlobCorrupted } from "./errors.ts";

const SHA256 = /^[0-9a-f]{64}$/;

/** How an event payload points at a blob: its content hash and size, never a path. */
export const BlobRef = Schema.Struct({
  sha256: Schema.String.check(Schema.isPattern(SHA256)),
  size: Schema.Number.check(Schema.isInt(), Schema.isGreaterThanOrEqualTo(0)),
});
export interface BlobRef {
  readonly sha256: string;
  readonly size: number;
}

export const blobsDir = (workspaceDir: string): string => joinPath(workspaceDir, "blobs");

/** `blobs/ab/abcd…`: two hex characters of fan-out keep folders small with many blobs. */
export const blobRelativePath = (sha256: string): string => `blobs/${sha256.slice(0, 2)}/${sha256}`;

export const sha256Hex = (data: Uint8Array): string => createHash("sha256").update(data).digest("hex");

/**
 * Content-addressed blobs inside a workspace folder (`<ws>/blobs/`), as 002 §5 asks: large bodies
 * live here and events carry a BlobRef. Equal content is stored once. Writes go through the
 * Storage driver (temp file, fsync, rename), so the simulator can run it in memory with faults.
 */
export class BlobStore {
  /** Puts of the same content in flight share one write (the driver's temp name is per path). */
  private readonly writing = new Map<string, Promise<void>>();

  constructor(
    readonly workspaceDir: string,
    private readonly storage: Storage = nodeStorage(),
  ) {}

  private pathOf(sha256: string): string {
    if (!SHA256.test(sha256)) throw new Error(`not a sha256: ${sha256}`);
    return joinPath(this.workspaceDir, blobRelativePath(sha256));
  }

  /** Stores the bytes unless a blob with this hash is already there; `created` says which. */
  async put(data: Uint8Array): Promise<BlobRef & { readonly created: boolean }> {
    const sha256 = sha256Hex(data);
    const path = this.pathOf(sha256);
    const pending = this.writing.get(sha256);
    if (pending !== undefined || this.storage.exists(path)) {
      await pending;
      return { sha256, size: data.byteLength, created: false };
    }
    this.storage.ensureDir(joinPath(this.workspaceDir, "blobs", sha256.slice(0, 2)));
    const write = this.storage.writeFileAtomic(path, data).finally(() => this.writing.delete(sha256));
    this.writing.set(sha256, write);
    await write;
    return { sha256, size: data.byteLength, created: true };
  }

  has(sha256: string): boolean {
    return this.storage.exists(this.pathOf(sha256));
  }

  /** The blob's bytes, checked against their hash; undefined when there is no such blob. */
  get(sha256: string): Uint8Array | undefined {
    const path = this.pathOf(sha256);
    const data = this.storage.readFile(path);
    if (data !== undefined && sha256Hex(data) !== sha256) throw new BlobCorrupted({ sha256, path });
    return data;
  }

  /** Every blob, by hash order. */
  list(): BlobRef[] {
    const root = blobsDir(this.workspaceDir);
    return this.storage
      .list(root)
      .flatMap((fan) => this.storage.list(joinPath(root, fan)).filter((name) => SHA256.test(name)))
      .sort()
      .map((sha256) => ({ sha256, size: this.storage.fileSize(this.pathOf(sha256)) }));
  }

  remove(sha256: string): void {
    this.storage.remove(this.pathOf(sha256));
  }

  /** Re-hashes every blob; returns the ones whose bytes no longer match their name. */
  verify(): BlobCorrupted[] {
    return this.list().flatMap(({ sha256 }) => {
      const path = this.pathOf(sha256);
      return sha256Hex(this.storage.readFile(path) ?? new Uint8Array()) === sha256 ? [] : [new BlobCorrupted({ sha256, path })];
    });
  }
}
