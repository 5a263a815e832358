import { randomBytes } from "node:crypto";
import type { Random } from "./random.ts";

/** Cryptographic randomness for production ids and tokens, drawn in pooled blocks. */
export const cryptoRandom = (): Random => {
  let pool = randomBytes(4096);
  let offset = 0;
  return {
    nextUint32() {
      if (offset + 4 > pool.length) {
        pool = randomBytes(4096);
        offset = 0;
      }
      const value = pool.readUInt32LE(offset);
      offset += 4;
      return value;
    },
  };
};
