import { hash } from "node:crypto";
import type { Envelope } from "../envelope.ts";

/** `,"hash":"` + 64 hex + `"}`: the fixed-width tail of every line. */
export const HASH_SUFFIX_LENGTH = 9 + 64 + 2;

/** sha256(prev hash + the line without its hash), lowercase hex. */
// One-shot `crypto.hash` on the joined string: no Hash object per line (about twice as fast on
// the scan and append paths, which hash every line).
export const chainHash = (prevHash: string, body: string): string => hash("sha256", prevHash + body, "hex");

/**
 * Serialises an envelope in the canonical field order and chains it to `prevHash`.
 * The same fields give the same bytes. Returns the line without its trailing newline.
 */
export const encodeEnvelope = (
  fields: Omit<Envelope, "hash">,
  prevHash: string,
): { line: string; envelope: Envelope } => {
  const envelope = { ...fields } as Omit<Envelope, "hash"> & { hash?: string };
  const line = sealEnvelope(envelope, prevHash);
  return { line, envelope: envelope as Envelope };
};

/**
 * As encodeEnvelope, but adds the hash to `fields` itself instead of copying it into a new
 * object (the append path builds a fresh object per event anyway). Returns the line.
 */
export const sealEnvelope = (fields: Omit<Envelope, "hash"> & { hash?: string }, prevHash: string): string => {
  // Built by hand in the canonical order: the same bytes JSON.stringify gives for an object with
  // these keys in this order, without building that object first (this is the append hot path).
  let body = `{"seq":${fields.seq},"ts":${JSON.stringify(fields.ts)},"ws":${JSON.stringify(fields.ws)},"id":${JSON.stringify(fields.id)},"entity":${JSON.stringify(fields.entity)},"type":${JSON.stringify(fields.type)}`;
  if (fields.v !== undefined) body += `,"v":${fields.v}`;
  if (fields.agent !== undefined) body += `,"agent":${JSON.stringify(fields.agent)}`;
  body += `,"payload":${JSON.stringify(fields.payload)}`;
  if (fields.from !== undefined) body += `,"from":${JSON.stringify(fields.from)}`;
  if (fields.to !== undefined) body += `,"to":${JSON.stringify(fields.to)}`;
  const hash = chainHash(prevHash, `${body}}`);
  fields.hash = hash;
  return `${body},"hash":"${hash}"}`;
};

/** The part of a stored line that its hash covers. */
export const lineBody = (line: string): string => `${line.slice(0, line.length - HASH_SUFFIX_LENGTH)}}`;

/** Recomputes a stored line's hash from its bytes and its predecessor's hash. */
export const lineHashMatches = (line: string, prevHash: string, claimed: string): boolean =>
  line.length > HASH_SUFFIX_LENGTH && chainHash(prevHash, lineBody(line)) === claimed;
