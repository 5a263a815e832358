import { Schema } from "effect";
import { describeSchemaError } from "@atelier/events";
import { badRequest } from "./errors.ts";

/**
 * Decodes untrusted input strictly (unknown fields are errors) against an API schema, or throws a
 * 400 whose details list every bad field.
 */
export const decodeInput = <S extends Schema.Top>(schema: S, input: unknown, what: string): S["Type"] => {
  try {
    return Schema.decodeUnknownSync(schema as unknown as Schema.Codec<S["Type"]>)(input, { errors: "all", onExcessProperty: "error" });
  } catch (error) {
    if (!Schema.isSchemaError(error)) throw error;
    const problems = describeSchemaError(error.message);
    const summary = problems.map((p) => (p.path ? `${p.path}: ${p.issue}` : p.issue)).join("; ");
    throw badRequest(`invalid ${what}: ${summary}`, problems);
  }
};

/** Parses a JSON text, or throws a 400 that says why it is not JSON. */
export const parseJson = (text: string, what: string): unknown => {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw badRequest(`${what} is not valid JSON: ${(error as Error).message}`);
  }
};
