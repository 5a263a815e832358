/** Randomness as a service, so that ids and choices replay under a seed. */
export interface Random {
  /** A uniformly distributed unsigned 32-bit integer. */
  nextUint32(): number;
}

/** A float in [0, 1). */
export const nextFloat = (random: Random): number => random.nextUint32() / 0x1_0000_0000;

/** An integer in [min, max] inclusive. */
export const nextInt = (random: Random, min: number, max: number): number =>
  min + Math.floor(nextFloat(random) * (max - min + 1));

/** True with probability `p`. */
export const chance = (random: Random, p: number): boolean => nextFloat(random) < p;

/** One element of a non-empty array. */
export const pick = <T>(random: Random, items: readonly T[]): T => {
  if (items.length === 0) throw new Error("pick from an empty array");
  return items[nextInt(random, 0, items.length - 1)] as T;
};

/** sfc32: a small, fast PRNG with a 128-bit state; the same seed gives the same stream. */
export const seededRandom = (seed: number): Random => {
  let a = 0x9e3779b9;
  let b = 0x243f6a88;
  let c = 0xb7e15162;
  let d = seed >>> 0;
  const next = () => {
    a >>>= 0; b >>>= 0; c >>>= 0; d >>>= 0;
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  for (let i = 0; i < 15; i++) next();
  return { nextUint32: next };
};

const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";

/** A prefixed id of `length` base32 characters (5 bits each, drawn 32 bits at a time) from `random`. */
export const randomId = (random: Random, prefix: string, length = 16): string => {
  let id = prefix;
  let bits = 0;
  let pool = 0;
  for (let i = 0; i < length; i++) {
    if (bits < 5) {
      pool = random.nextUint32();
      bits = 32;
    }
    id += ALPHABET[pool & 31];
    pool >>>= 5;
    bits -= 5;
  }
  return id;
};

/** `bytes` random bytes as lowercase hex (for tokens). */
export const randomHex = (random: Random, bytes: number): string => {
  let hex = "";
  for (let i = 0; i < bytes; i++) hex += (random.nextUint32() & 0xff).toString(16).padStart(2, "0");
  return hex;
};
