import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { openCatalog } from "../../catalog/catalog.ts";
import { WorkspaceCatalog } from "../../catalog/workspaces.ts";
import { applySession } from "../../import/apply.ts";
import { parseSession } from "../../import/session.ts";
import { UsageError, parseCommandArgs, type Command } from "../command.ts";
import { DEFAULT_DATA } from "./token.ts";

export const importSession: Command = {
  path: ["import"],
  usage: "atelier import <session.jsonl> [--data d] [--workspace w]",
  summary: "turn a seed-format session log (ts, type, agent, payload) into a workspace",
  async run(args, io) {
    const { positionals, values } = parseCommandArgs(args, { data: { type: "string" }, workspace: { type: "string" }, name: { type: "string" } }, { min: 1, max: 1 });
    if (values.workspace !== undefined && !/^[A-Za-z0-9_-]{1,64}$/.test(values.workspace)) throw new UsageError("--workspace must be 1-64 of A-Z a-z 0-9 _ -");
    const file = positionals[0]!;
    const { lines, errors } = parseSession(readFileSync(file, "utf8"));
    if (errors.length > 0) {
      for (const e of errors) io.err(`${file}:${e.line}: ${e.message}`);
      io.err(`atelier: ${errors.length} bad line(s); nothing imported`);
      return 1;
    }
    const dataDir = values.data ?? DEFAULT_DATA;
    mkdirSync(dataDir, { recursive: true });
    const db = openCatalog(join(dataDir, "catalog.db"));
    try {
      const catalog = new WorkspaceCatalog(db);
      if (values.workspace !== undefined && catalog.has(values.workspace)) throw new Error(`workspace ${values.workspace} already exists`);
      const { id, name, head } = await applySession(lines, { dataDir, ...(values.workspace ? { workspace: values.workspace } : {}), ...(values.name ? { name: values.name } : {}) });
      catalog.add({ id, name, createdAt: lines[0]!.at, demo: false });
      io.out(`imported ${lines.length} lines into workspace ${id}: ${head} events`);
      return 0;
    } finally {
      db.close();
    }
  },
};
