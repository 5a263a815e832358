import fc from "fast-check";
import { Schema } from "effect";
import { describe, expect, it } from "vitest";
import { compileCheck, REJECTED } from "../src/catalogue/fast-check.ts";

const strict = { errors: "all", onExcessProperty: "error" } as const;

const schemas = {
  scalars: Schema.Struct({ file: Schema.String, mode: Schema.Literals(["read", "write"]), n: Schema.Number, ok: Schema.Boolean }),
  optional: Schema.Struct({ a: Schema.optional(Schema.String), b: Schema.optionalKey(Schema.Number), c: Schema.NullOr(Schema.String) }),
  filtered: Schema.Struct({ file: Schema.String.check(Schema.isMinLength(1)), n: Schema.Number.check(Schema.isInt(), Schema.isGreaterThanOrEqualTo(0)) }),
  nested: Schema.Struct({ list: Schema.Array(Schema.Struct({ x: Schema.Number, tag: Schema.Literal("t") })), any: Schema.Unknown }),
};

const fields = {
  file: fc.oneof(fc.string(), fc.integer(), fc.constant("")),
  mode: fc.constantFrom("read", "write", "admin", undefined),
  n: fc.oneof(fc.double(), fc.integer({ min: -5, max: 1e6 }), fc.string()),
  ok: fc.oneof(fc.boolean(), fc.constant(null)),
  a: fc.oneof(fc.string(), fc.constant(undefined), fc.integer()),
  b: fc.oneof(fc.integer(), fc.constant(undefined)),
  c: fc.oneof(fc.string(), fc.constant(null), fc.constant(undefined)),
  list: fc.array(fc.record({ x: fc.oneof(fc.integer(), fc.string()), tag: fc.constantFrom("t", "u") }, { requiredKeys: ["x"] })),
  any: fc.jsonValue(),
  extra: fc.integer(),
};

/** Values near a schema's shape: its keys, sometimes absent, of right or wrong types; rarely an extra key. */
const nearby = (keys: ReadonlyArray<keyof typeof fields>) =>
  fc.oneof(
    { arbitrary: fc.jsonValue(), weight: 1 },
    { arbitrary: fc.record(Object.fromEntries(keys.map((k) => [k, fields[k]])), { requiredKeys: [] }), weight: 3 },
    { arbitrary: fc.record(Object.fromEntries(keys.map((k) => [k, fields[k]]))), weight: 3 },
    { arbitrary: fc.record(Object.fromEntries([...keys, "extra" as const].map((k) => [k, fields[k]]))), weight: 1 },
  );

const keysOf = (schema: Schema.Top) => (schema as unknown as Schema.Struct<Schema.Struct.Fields>).fields ? Object.keys((schema as unknown as Schema.Struct<Schema.Struct.Fields>).fields) as Array<keyof typeof fields> : [];

describe("compiled payload checks", () => {
  for (const [name, schema] of Object.entries(schemas)) {
    it(`${name}: accepts exactly what Effect's strict decoder accepts, with the same value and key order`, () => {
      const check = compileCheck(schema)!;
      expect(check).toBeTypeOf("function");
      const decode = Schema.decodeUnknownSync(schema as unknown as Schema.Codec<unknown>);
      let accepted = 0;
      fc.assert(
        fc.property(nearby(keysOf(schema)), (input) => {
          let effect: unknown = REJECTED;
          try {
            effect = decode(input, strict);
          } catch {
            // refused
          }
          const compiled = check(input);
          expect(compiled === REJECTED).toBe(effect === REJECTED);
          if (compiled !== REJECTED) {
            accepted++;
            expect(JSON.stringify(compiled)).toBe(JSON.stringify(effect));
            expect(Object.keys(compiled as object)).toEqual(Object.keys(effect as object));
          }
        }),
        { numRuns: 3000 },
      );
      expect(accepted).toBeGreaterThan(0);
    });
  }

  it("leaves schemas with transformations to Effect", () => {
    expect(compileCheck(Schema.Struct({ d: Schema.NumberFromString }))).toBeUndefined();
    expect(compileCheck(Schema.Record(Schema.String, Schema.Number))).toBeUndefined();
  });
});
