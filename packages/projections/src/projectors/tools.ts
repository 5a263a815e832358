import { parseEntity } from "@atelier/actors/machines";
import { counter } from "./agents.ts";
import { stmt } from "./sql.ts";
import type { Part } from "./types.ts";

const countTool = counter("tool_calls");

/** Tool calls: counted per agent and per prompt; an edit makes its file the newest artifact. */
export const toolProjectors = {
  "agent.tool_called": ({ seq, entity, payload: p }) => {
    const agent = parseEntity(entity).key;
    const counts = [countTool(agent, 1), stmt("UPDATE prompts SET tool_calls = tool_calls + 1 WHERE agent = ? AND id = ?", agent, p.promptId)];
    if (p.kind !== "edit" || p.file === undefined) return counts;
    return [
      ...counts,
      stmt(
        `INSERT INTO artifacts (file, agent, prompt_id, summary, at, seq) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (file) DO UPDATE SET agent = excluded.agent, prompt_id = excluded.prompt_id, summary = excluded.summary,
           at = excluded.at, seq = excluded.seq`,
        p.file, agent, p.promptId, p.summary, p.at, seq,
      ),
    ];
  },
} satisfies Part;
