import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { logDir, nodeStorage, readLines, scanLog } from "@atelier/events";
import { UsageError, parseCommandArgs, wholeNumber, type Command } from "../command.ts";

/** The workspace id from the folder's manifest, when there is one. */
const manifestWorkspace = (dir: string): string | undefined => {
  const path = join(dir, "manifest.json");
  if (!existsSync(path)) return undefined;
  const manifest = JSON.parse(readFileSync(path, "utf8")) as { id?: unknown };
  return typeof manifest.id === "string" ? manifest.id : undefined;
};

const requireLogFolder = (dir: string): string => {
  const log = logDir(dir);
  if (!existsSync(log)) throw new UsageError(`${dir} is not a workspace folder (no log/ inside)`);
  return log;
};

export const logVerify: Command = {
  path: ["log", "verify"],
  usage: "atelier log verify <workspace-dir>",
  summary: "check the log's hash chain; print the event count and last seq",
  async run(args, io) {
    const { positionals } = parseCommandArgs(args, {}, { min: 1, max: 1 });
    const dir = positionals[0]!;
    const scan = scanLog(nodeStorage(), requireLogFolder(dir), manifestWorkspace(dir));
    io.out(`ok: ${scan.head} events, last seq ${scan.head}, ${scan.segments.length} segment(s)`);
    if (scan.torn) io.out(`note: torn final line (${scan.torn.bytes} bytes) in ${scan.torn.file}; the writer truncates it on open`);
    return 0;
  },
};

export const logCat: Command = {
  path: ["log", "cat"],
  usage: "atelier log cat <workspace-dir> [--from N] [--to N]",
  summary: "print the log's lines (verified first) from seq N",
  async run(args, io) {
    const { positionals, values } = parseCommandArgs(args, { from: { type: "string" }, to: { type: "string" } }, { min: 1, max: 1 });
    const from = wholeNumber("--from", values.from, 1) ?? 1;
    const to = wholeNumber("--to", values.to, 1) ?? Number.POSITIVE_INFINITY;
    const dir = positionals[0]!;
    const storage = nodeStorage();
    const scan = scanLog(storage, requireLogFolder(dir), manifestWorkspace(dir));
    for (const { line } of readLines(storage, scan.segments, from, Math.min(to, scan.head))) io.out(line);
    return 0;
  },
};
