import { parseArgs, type ParseArgsConfig } from "node:util";

/** Where a command writes; tests pass their own. */
export interface Output {
  out(line: string): void;
  err(line: string): void;
  /** Whether `out` is a terminal (progress bars only then). */
  readonly isTTY: boolean;
}

export const processOutput: Output = {
  out: (line) => void process.stdout.write(`${line}\n`),
  err: (line) => void process.stderr.write(`${line}\n`),
  isTTY: Boolean(process.stdout.isTTY),
};

/** A bad invocation: printed with the usage, exit code 2. */
export class UsageError extends Error {}

/** One CLI command: its words, a one-line summary, a usage line, and what it runs. */
export interface Command {
  readonly path: readonly string[];
  readonly usage: string;
  readonly summary: string;
  /** Returns the exit code. */
  run(args: string[], io: Output): Promise<number>;
}

type Options = NonNullable<ParseArgsConfig["options"]>;

/** node:util parseArgs in strict mode, with its errors turned into usage errors. */
export const parseCommandArgs = <O extends Options>(args: string[], options: O, positionals: { min: number; max: number }) => {
  let parsed;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (parsed.positionals.length < positionals.min) throw new UsageError("missing argument");
  if (parsed.positionals.length > positionals.max) throw new UsageError(`unexpected argument: ${parsed.positionals[positionals.max]}`);
  return parsed;
};

/** Parses a value that must be a whole number ≥ `min`; `source` names it in the error (`--port`, an environment variable). */
export const wholeNumber = (source: string, value: string | undefined, min: number): number | undefined => {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value)) || Number(value) < min) throw new UsageError(`${source} must be a whole number ≥ ${min}, got "${value}"`);
  return Number(value);
};
