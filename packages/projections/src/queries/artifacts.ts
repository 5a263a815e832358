import { clampLimit, type Page, type Queryable, toPage } from "./queryable.ts";

/** A file changed by an edit tool call: its latest edit. */
export interface Artifact {
  readonly file: string;
  readonly agent: string;
  readonly promptId: string;
  readonly summary: string;
  readonly at: number;
  readonly seq: number;
}

const ARTIFACTS = `SELECT file, agent, prompt_id AS promptId, summary, at, seq FROM artifacts
WHERE seq < ? ORDER BY seq DESC LIMIT ?`;

/** Files changed by tools, most recently edited first (context assembly's artifacts block). */
export const artifacts = (q: Queryable, options: { before?: number; limit?: number } = {}): Page<Artifact> => {
  const limit = clampLimit(options.limit);
  const rows = q.statement(ARTIFACTS).all(options.before ?? Number.MAX_SAFE_INTEGER, limit + 1) as Artifact[];
  return toPage(rows, limit, (artifact) => artifact.seq);
};
