/**
 * Schema 2: tool calls and time to first token (issue 4's metrics) and the artifacts of context
 * assembly. `first_token_at` belongs to a prompt's current attempt; time to first token is measured
 * from that attempt's `started_at`.
 */
export const V2 = `
ALTER TABLE agent_stats ADD COLUMN tool_calls INTEGER NOT NULL DEFAULT 0;
ALTER TABLE agent_stats ADD COLUMN ttft_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE agent_stats ADD COLUMN ttft_n INTEGER NOT NULL DEFAULT 0;
ALTER TABLE prompts ADD COLUMN first_token_at INTEGER;
ALTER TABLE prompts ADD COLUMN tool_calls INTEGER NOT NULL DEFAULT 0;
ALTER TABLE agent_metrics ADD COLUMN ttft_ms INTEGER;
ALTER TABLE agent_metrics ADD COLUMN tool_calls INTEGER;

-- Files changed by edit tool calls: the latest edit of each file.
CREATE TABLE artifacts (
  file TEXT PRIMARY KEY,
  agent TEXT NOT NULL,
  prompt_id TEXT NOT NULL,
  summary TEXT NOT NULL,
  at INTEGER NOT NULL,
  seq INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX artifacts_by_seq ON artifacts (seq);
`;
