import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { chainHash, encodeEnvelope, lineBody, lineHashMatches } from "../src/index.ts";

const text = fc.string({ unit: "binary", maxLength: 40 });
const json: fc.Arbitrary<unknown> = fc.jsonValue();

describe("encodeEnvelope", () => {
  it("writes exactly the bytes JSON.stringify gives for the canonical key order", () => {
    fc.assert(
      fc.property(
        fc.record({
          seq: fc.integer({ min: 1, max: 2 ** 40 }),
          ts: text,
          ws: text,
          id: text,
          entity: text,
          type: text,
          v: fc.option(fc.integer({ min: 2, max: 9 }), { nil: undefined }),
          agent: fc.option(text, { nil: undefined }),
          payload: json,
          from: fc.option(text, { nil: undefined }),
          to: fc.option(text, { nil: undefined }),
        }),
        text,
        (raw, prev) => {
          const fields = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined)) as typeof raw;
          const { line, envelope } = encodeEnvelope(fields, prev);
          const ordered = ["seq", "ts", "ws", "id", "entity", "type", "v", "agent", "payload", "from", "to"]
            .filter((k) => k in fields)
            .map((k) => [k, fields[k as keyof typeof fields]]);
          const expected = JSON.stringify(Object.fromEntries([...ordered, ["hash", envelope.hash]]));
          expect(line).toBe(expected);
          expect(JSON.parse(line)).toEqual(JSON.parse(JSON.stringify(envelope)));
          expect(envelope.hash).toBe(chainHash(prev, lineBody(line)));
          expect(lineHashMatches(line, prev, envelope.hash)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});
