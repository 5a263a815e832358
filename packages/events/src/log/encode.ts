import { createHash } from "node:crypto";
import type { Envelope } from "../envelope.ts";

/** `,"hash":"` + 64 hex + `"}`: the fixed-width tail of every line. */
const HASH_SUFFIX_LENGTH = 9 + 64 + 2;

/** sha256(prev hash + the line without its hash), lowercase hex. */
export const chainHash = (prevHash: string, body: string): string =>
  createHash("sha256").update(prevHash).update(body).digest("hex");

/**
 * Serialises an envelope in the canonical field order and chains it to `prevHash`.
 * The same fields give the same bytes. Returns the line without its trailing newline.
 */
export const encodeEnvelope = (
  fields: Omit<Envelope, "hash">,
  prevHash: string,
): { line: string; envelope: Envelope } => {
  const ordered: Record<string, unknown> = {
    seq: fields.seq,
    ts: fields.ts,
    ws: fields.ws,
    id: fields.id,
    entity: fields.entity,
    type: fields.type,
  };
  if (fields.v !== undefined) ordered.v = fields.v;
  if (fields.agent !== undefined) ordered.agent = fields.agent;
  ordered.payload = fields.payload;
  if (fields.from !== undefined) ordered.from = fields.from;
  if (fields.to !== undefined) ordered.to = fields.to;
  const body = JSON.stringify(ordered);
  const hash = chainHash(prevHash, body);
  ordered.hash = hash;
  return { line: `${body.slice(0, -1)},"hash":"${hash}"}`, envelope: ordered as unknown as Envelope };
};

/** The part of a stored line that its hash covers. */
export const lineBody = (line: string): string => `${line.slice(0, line.length - HASH_SUFFIX_LENGTH)}}`;

/** Recomputes a stored line's hash from its bytes and its predecessor's hash. */
export const lineHashMatches = (line: string, prevHash: string, claimed: string): boolean =>
  line.length > HASH_SUFFIX_LENGTH && chainHash(prevHash, lineBody(line)) === claimed;
