import { runCheckCommand, runRebuildCommand } from "@atelier/projections";
import { parseCommandArgs, type Command } from "../command.ts";

/** The projections package does the work and prints; these only parse the arguments. */
const projectionCommand = (word: "rebuild" | "check", summary: string, run: typeof runCheckCommand): Command => ({
  path: [word],
  usage: `atelier ${word} <workspace-dir>`,
  summary,
  async run(args) {
    const { positionals } = parseCommandArgs(args, {}, { min: 1, max: 1 });
    return run(positionals[0]!, process.stdout, process.stderr);
  },
});

export const rebuild = projectionCommand("rebuild", "rebuild projections.db from the log into a fresh file (progress bar), then swap it in; refused while a server has the workspace (POST /api/v2/workspaces/<ws>/read-models/rebuild then)", runRebuildCommand);
export const check = projectionCommand("check", "rebuild aside and compare with projections.db (safe while a server runs); exit 1 naming the tables that differ", runCheckCommand);
