import { existsSync } from "node:fs";
import { openDb } from "../db/open.ts";
import { readCheckpoint } from "../engine/checkpoint.ts";
import type { LogSource } from "../source/log-source.ts";
import { buildAside, type BuildOptions } from "./build.ts";
import { projectionPath, removeDb } from "./files.ts";
import { tableDigests } from "./dump.ts";

export interface CheckResult {
  readonly ok: boolean;
  /** Tables whose canonical dumps differ, or that exist on one side only. */
  readonly differingTables: string[];
  /** The seq both sides were compared at (the live checkpoint). */
  readonly seq: number;
}

export type CheckOptions = Omit<BuildOptions, "to">;

/**
 * Rebuilds aside up to the live projection's checkpoint and compares the canonical dumps, table
 * by table. Read-only towards the live file: the comparison runs inside one read transaction.
 */
export const checkProjection = (target: string, source: LogSource, options: CheckOptions = {}): CheckResult => {
  const path = projectionPath(target);
  if (!existsSync(path)) throw new Error(`no projection at ${path}`);
  const live = openDb(path, "readonly");
  const aside = `${path}.check`;
  try {
    live.exec("BEGIN");
    const seq = readCheckpoint(live)?.seq ?? 0;
    buildAside(aside, source, { ...options, to: seq });
    const rebuilt = openDb(aside, "readonly");
    let expected: Map<string, string>;
    try {
      expected = tableDigests(rebuilt);
    } finally {
      rebuilt.close();
    }
    const actual = tableDigests(live);
    const names = [...new Set([...expected.keys(), ...actual.keys()])].sort();
    const differingTables = names.filter((name) => expected.get(name) !== actual.get(name));
    return { ok: differingTables.length === 0, differingTables, seq };
  } finally {
    live.close();
    removeDb(aside);
  }
};
