import { GENESIS_HASH } from "../envelope.ts";
import { parseSegmentName } from "../log/segments.ts";
import type { VerifiedLog, VerifiedSegment } from "../log/verify.ts";
import { SegmentVerifier, type SegmentChain } from "./chain.ts";
import { ArchiveRefused } from "./errors.ts";
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
  const { segment, after } = vouch;
  if (content.size === segment.bytes && content.sha256 === segment.sha256) {
    const chain = { file, firstSeq, lastSeq: segment.lastSeq, first: undefined, lastHash: segment.lastHash, tornBytes: 0, workspace, after };
    return { chain, vouched: segment.lastSeq - firstSeq + 1 };
  }
  const verifier = new SegmentVerifier(file, firstSeq);
  const reread = await hashFile(file, (chunk) => verifier.push(chunk));
  if (reread.size !== content.size || reread.sha256 !== content.sha256) {
    throw new ArchiveRefused({ reason: `${file} changed while it was archived: archive a closed workspace` });
  }
  return { chain: verifier.end(), vouched: 0 };
};
