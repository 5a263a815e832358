import { fileURLToPath } from "node:url";
import { realpathSync } from "node:fs";
import { processOutput, UsageError, type Command, type Output } from "./command.ts";
import { archiveLs, archivePrune, archiveRestore, hibernate, resume } from "./commands/archive.ts";
import { logCat, logVerify } from "./commands/log.ts";
import { follow, mirrorStatus, restore } from "./commands/nats.ts";
import { importSession } from "./commands/import.ts";
import { check, rebuild } from "./commands/projection.ts";
import { runner } from "./commands/runner.ts";
import { start } from "./commands/start.ts";
import { tokenCreate, tokenList, tokenRevoke } from "./commands/token.ts";

/** Every command, in the order `--help` lists them. */
export const commands: readonly Command[] = [
  start,
  tokenCreate,
  tokenList,
  tokenRevoke,
  runner,
  importSession,
  logVerify,
  logCat,
  rebuild,
  check,
  follow,
  restore,
  mirrorStatus,
  hibernate,
  resume,
  archiveLs,
  archivePrune,
  archiveRestore,
];

export const helpText = (): string =>
  [
    "atelier — multi-agent coding workspaces on an event-sourced log",
    "",
    "Usage:",
    ...commands.map((c) => `  ${c.usage.padEnd(58)} ${c.summary}`),
    "",
    "Run `atelier <command> --help` for a command's usage.",
  ].join("\n");

/** Finds the command whose words start `argv`, runs it, and maps failures to exit codes. */
export const runCli = async (argv: string[], io: Output = processOutput): Promise<number> => {
  if (argv.length === 0 || argv[0] === "--help" || argv[0] === "-h" || argv[0] === "help") {
    io.out(helpText());
    return argv.length === 0 ? 2 : 0;
  }
  const command = commands.find((c) => c.path.every((word, i) => argv[i] === word));
  if (!command) {
    io.err(`atelier: unknown command "${argv.join(" ")}"\n\n${helpText()}`);
    return 2;
  }
  const args = argv.slice(command.path.length);
  if (args.includes("--help") || args.includes("-h")) {
    io.out(`${command.usage}\n  ${command.summary}`);
    return 0;
  }
  try {
    return await command.run(args, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`atelier: ${error.message}\nusage: ${command.usage}`);
      return 2;
    }
    io.err(`atelier: ${(error as Error).message}`);
    return 1;
  }
};

const invokedDirectly = (() => {
  try {
    return realpathSync(process.argv[1] ?? "") === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
})();

if (invokedDirectly || process.env.ATELIER_CLI_SHIM === "1") {
  process.exitCode = await runCli(process.argv.slice(2));
}
