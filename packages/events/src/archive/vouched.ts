import { GENESIS_HASH } from "../envelope.ts";
import { parseSegmentName } from "../log/segments.ts";
import type { VerifiedLog, VerifiedSegment } from "../log/verify.ts";
import { SegmentVerifier, type SegmentChain } from "./chain.ts";
import { ArchiveRefused } from "./errors.ts";
import type { ArchivePart } from "./manifest.ts";
import type { ObjectStoreClient } from "./object-store.ts";
import { hashFile, type Digest } from "./streams.ts";

/** A segment a closing log vouched for, and the hash its first line chains onto. */
export interface Vouch {
  readonly segment: VerifiedSegment;
  readonly after: string;
}

/**
 * The segments `verified` vouches for, by file name. None unless it is of `workspace`'s log and
 * its segments follow on from seq 1, as a closed log's `vouch` gives them: a hint from elsewhere
 * is ignored.
 */
export const vouchedSegments = (verified: VerifiedLog | undefined, workspace: string): Map<string, Vouch> => {
  const vouches = new Map<string, Vouch>();
  if (verified === undefined || verified.workspace !== workspace) return vouches;
  let after = GENESIS_HASH;
  let next = 1;
  for (const segment of verified.segments) {
    if (parseSegmentName(segment.name) !== next || !Number.isSafeInteger(segment.lastSeq) || segment.lastSeq < next - 1) return new Map();
    vouches.set(segment.name, { segment, after });
    after = segment.lastHash;
    next = segment.lastSeq + 1;
  }
  return vouches;
};

/**
 * The chain of a segment file that was streamed (as `content`) without its line check: taken on
 * `vouch`'s word when those bytes are exactly the vouched ones; otherwise the file is read again
 * through the full check, which must see the same bytes (else the log changed under the archive).
 * Also returns how many lines were taken on the word (0 after the full check).
 */
export const vouchedChain = async (
  file: string, firstSeq: number, content: Digest, vouch: Vouch, workspace: string,
): Promise<{ chain: SegmentChain; vouched: number }> => {
  const { segment } = vouch;
  if (content.size === segment.bytes && content.sha256 === segment.sha256) return chainOnWord(file, firstSeq, vouch, workspace);
  const verifier = new SegmentVerifier(file, firstSeq);
  const reread = await hashFile(file, (chunk) => verifier.push(chunk));
  if (reread.size !== content.size || reread.sha256 !== content.sha256) {
    throw new ArchiveRefused({ reason: `${file} changed while it was archived: archive a closed workspace` });
  }
  return { chain: verifier.end(), vouched: 0 };
};

/** A vouched segment's chain, taken on the vouch's word; and how many lines that is. */
export const chainOnWord = (file: string, firstSeq: number, { segment, after }: Vouch, workspace: string): { chain: SegmentChain; vouched: number } => ({
  chain: { file, firstSeq, lastSeq: segment.lastSeq, first: undefined, lastHash: segment.lastHash, tornBytes: 0, workspace, after },
  vouched: segment.lastSeq - firstSeq + 1,
});

/**
 * The part an earlier archive stored for a vouched segment, when it still serves: its content is
 * exactly the vouched bytes, the file still has their size, and the store holds the object at
 * the part's size (and sha256, where the store records one). The archive then takes that part
 * without reading or compressing the file: a sealed segment is gzip'd once, not at every
 * hibernation. Its bytes are the ones the log acknowledged, checked when that archive read them.
 */
export const heldSegmentPart = async (
  store: ObjectStoreClient, prefix: string, earlier: ArchivePart | undefined, vouch: Vouch, fileSize: number,
): Promise<ArchivePart | undefined> => {
  const { segment } = vouch;
  if (earlier === undefined || earlier.contentSha256 !== segment.sha256 || earlier.contentSize !== segment.bytes || fileSize !== segment.bytes) return undefined;
  const held = await store.head(prefix + earlier.key).catch(() => undefined);
  if (held === undefined || held.size !== earlier.size || (held.sha256 !== undefined && held.sha256 !== earlier.sha256)) return undefined;
  return earlier;
};
