import { createHash, type Hash } from "node:crypto";
import type { Segment } from "./segments.ts";
import type { VerifiedLog } from "./verify.ts";

/**
 * A running sha256 over exactly the bytes of one segment that the log checked when it opened or
 * committed since, and its last line's hash: what the log can vouch for once it closes.
 */
export class SegmentDigest {
  private readonly hash: Hash;
  bytes: number;
  /** The hash of its last line (its predecessor's while it has none). */
  lastHash: string;

  /** `from`: a running sha256 over the segment's first `bytes` bytes, to go on from (copied). */
  constructor(
    readonly name: string,
    lastHash: string,
    from?: { readonly bytes: number; readonly hash: Hash },
  ) {
    this.lastHash = lastHash;
    this.hash = from?.hash.copy() ?? createHash("sha256");
    this.bytes = from?.bytes ?? 0;
  }

  update(data: Uint8Array): void {
    this.hash.update(data);
    this.bytes += data.length;
  }

  /** The sha256 (hex) of the bytes so far; more may follow. */
  sha256(): string {
    return this.hash.copy().digest("hex");
  }
}

/**
 * The `VerifiedLog` of `segments` as their digests account for them; undefined unless each digest
 * covers exactly its segment's bytes, so a slip in that bookkeeping means no hint, never a wrong one.
 */
export const vouchedLog = (workspace: string, segments: readonly Segment[], digests: readonly SegmentDigest[]): VerifiedLog | undefined => {
  if (segments.length === 0 || digests.length !== segments.length) return undefined;
  if (segments.some((s, i) => s.name !== digests[i]!.name || s.bytes !== digests[i]!.bytes)) return undefined;
  return {
    workspace,
    segments: segments.map((s, i) => ({ name: s.name, bytes: s.bytes, sha256: digests[i]!.sha256(), lastSeq: s.lastSeq, lastHash: digests[i]!.lastHash })),
  };
};
