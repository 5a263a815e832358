import { Schema } from "effect";
import { InvalidEvent } from "../errors.ts";

export interface SchemaProblem {
  /** Dotted path of the offending field, e.g. `payload.mode`; empty for the whole value. */
  readonly path: string;
  readonly issue: string;
}

const parseOptions = { errors: "all", onExcessProperty: "error" } as const;

/** Splits Effect's schema error text ("Expected string\n  at [\"a\"][0]") into path/issue pairs. */
export const describeSchemaError = (message: string, prefix = ""): SchemaProblem[] => {
  const problems: SchemaProblem[] = [];
  let issue: string[] = [];
  for (const line of message.split("\n")) {
    const at = /^\s*at (.*)$/.exec(line);
    if (!at) {
      issue.push(line.trim());
      continue;
    }
    const segments = [...(at[1] ?? "").matchAll(/\[("(?:[^"\\]|\\.)*"|\d+)\]/g)].map((m) =>
      (m[1] ?? "").startsWith('"') ? JSON.parse(m[1] ?? '""') : m[1],
    );
    problems.push({ path: [prefix, ...segments].filter(Boolean).join("."), issue: issue.join(" ") });
    issue = [];
  }
  if (issue.length > 0 && issue.join("")) problems.push({ path: prefix, issue: issue.join(" ") });
  return problems;
};

/**
 * Decodes `input` strictly (excess properties are errors) and throws InvalidEvent naming the
 * first bad field, with every problem in the message.
 */
export const decodeStrict = <S extends Schema.Top>(
  schema: S,
  input: unknown,
  label: string,
  prefix: string,
): S["Type"] => {
  try {
    return Schema.decodeUnknownSync(schema as unknown as Schema.Codec<S["Type"]>)(input, parseOptions);
  } catch (error) {
    if (!Schema.isSchemaError(error)) throw error;
    const problems = describeSchemaError(error.message, prefix);
    const first = problems[0] ?? { path: prefix, issue: error.message };
    const rest = problems.slice(1).map((p) => `; ${p.path}: ${p.issue}`).join("");
    throw new InvalidEvent(label, first.path, first.issue + rest);
  }
};
