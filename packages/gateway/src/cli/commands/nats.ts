import { existsSync, readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { performance } from "node:perf_hooks";
import {
  connectNats,
  DEFAULT_STREAM,
  followWorkspace,
  logDir,
  mirroredHead,
  natsUrl,
  nodeStorage,
  readLines,
  restoreWorkspace,
  scanLog,
  type NatsConnection,
} from "@atelier/events";
import { UsageError, parseCommandArgs, type Command, type Output } from "../command.ts";

/** `--nats` falls back to ATELIER_NATS_URL; `--stream` names a stream other than ATELIER. */
const natsOptions = { nats: { type: "string" }, stream: { type: "string" } } as const;

/** Connects to `--nats`, or ATELIER_NATS_URL, runs `fn`, and closes the connection. */
const withNats = async <T>(flag: string | undefined, name: string, fn: (nc: NatsConnection) => Promise<T>): Promise<T> => {
  const url = natsUrl(flag);
  if (!url) throw new UsageError("no NATS server: pass --nats <url> or set ATELIER_NATS_URL");
  const nc = await connectNats(url, name);
  try {
    return await fn(nc);
  } finally {
    await nc.close();
  }
};

/** Prints progress at most once a second, so a long catch-up shows it is moving without flooding. */
const progress = (io: Output, workspace: string): ((head: number) => void) => {
  let last = 0;
  return (head) => {
    const now = performance.now();
    if (now - last < 1000) return;
    last = now;
    io.out(`${workspace}: copied up to seq ${head}`);
  };
};

export const follow: Command = {
  path: ["follow"],
  usage: "atelier follow --nats <url> <ws> [dir] [--once]",
  summary: "copy a workspace's log from JetStream into a read-only folder and keep following it",
  async run(args, io) {
    const { positionals, values } = parseCommandArgs(args, { ...natsOptions, once: { type: "boolean" } }, { min: 1, max: 2 });
    const workspace = positionals[0]!;
    const dir = positionals[1] ?? workspace;
    return withNats(values.nats, "atelier follow", async (connection) => {
      const stop = new AbortController();
      const abort = (): void => stop.abort();
      process.once("SIGINT", abort);
      process.once("SIGTERM", abort);
      try {
        if (!values.once) io.out(`following ${workspace} into ${dir} (Ctrl-C stops)`);
        const head = await followWorkspace({
          connection,
          workspace,
          dir,
          ...(values.stream ? { stream: values.stream } : {}),
          once: values.once ?? false,
          signal: stop.signal,
          onProgress: progress(io, workspace),
        });
        io.out(`${workspace}: local copy holds seq 1..${head} in ${dir}`);
        return 0;
      } finally {
        process.removeListener("SIGINT", abort);
        process.removeListener("SIGTERM", abort);
      }
    });
  },
};

export const restore: Command = {
  path: ["restore"],
  usage: "atelier restore --nats <url> <ws> <dir>",
  summary: "rebuild a workspace's log in an empty folder from JetStream",
  async run(args, io) {
    const { positionals, values } = parseCommandArgs(args, natsOptions, { min: 2, max: 2 });
    const [workspace, dir] = positionals as [string, string];
    return withNats(values.nats, "atelier restore", async (connection) => {
      const head = await restoreWorkspace({ connection, workspace, dir, ...(values.stream ? { stream: values.stream } : {}), onProgress: progress(io, workspace) });
      io.out(`restored ${workspace}: ${head} events into ${logDir(dir)}`);
      return 0;
    });
  },
};

/** Workspace folders named on the command line: a folder with log/, or a data folder's workspaces/. */
const workspaceFolders = (paths: readonly string[]): string[] =>
  paths.flatMap((p) => {
    if (existsSync(logDir(p))) return [p];
    const root = join(p, "workspaces");
    if (!existsSync(root)) throw new UsageError(`${p} is neither a workspace folder (log/) nor a data folder (workspaces/)`);
    return readdirSync(root)
      // A leading dot: a crash's leftover beside a workspace (a wipe, a restore's staging), not a workspace.
      .filter((name) => !name.startsWith("."))
      .sort()
      .map((name) => join(root, name))
      .filter((dir) => existsSync(logDir(dir)));
  });

const workspaceId = (dir: string): string => {
  const manifest = join(dir, "manifest.json");
  const id = existsSync(manifest) ? (JSON.parse(readFileSync(manifest, "utf8")) as { id?: unknown }).id : undefined;
  return typeof id === "string" ? id : basename(dir);
};

export const mirrorStatus: Command = {
  path: ["mirror", "status"],
  usage: "atelier mirror status --nats <url> <data-dir|ws-dir...>",
  summary: "per workspace: log head, mirrored head in JetStream, lag; exit 1 if any diverged",
  async run(args, io) {
    const { positionals, values } = parseCommandArgs(args, natsOptions, { min: 1, max: Number.POSITIVE_INFINITY });
    const dirs = workspaceFolders(positionals);
    const stream = values.stream ?? DEFAULT_STREAM;
    return withNats(values.nats, "atelier mirror status", async (nc) => {
      const storage = nodeStorage();
      const rows: string[][] = [["workspace", "log head", "mirrored", "lag", "state"]];
      let bad = 0;
      for (const dir of dirs) {
        const ws = workspaceId(dir);
        const scan = scanLog(storage, logDir(dir), ws);
        const mirrored = await mirroredHead(nc, stream, ws);
        const [local] = mirrored.seq > 0 && mirrored.seq <= scan.head ? [...readLines(storage, scan.segments, mirrored.seq, mirrored.seq)] : [];
        const state =
          mirrored.seq > scan.head ? "ahead of the log" : local && local.line !== mirrored.line ? "diverged" : mirrored.seq === scan.head ? "in sync" : "behind";
        if (state === "ahead of the log" || state === "diverged") bad++;
        rows.push([ws, String(scan.head), String(mirrored.seq), String(Math.max(0, scan.head - mirrored.seq)), state]);
      }
      const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
      for (const row of rows) io.out(row.map((cell, i) => cell.padEnd(widths[i]!)).join("  ").trimEnd());
      return bad > 0 ? 1 : 0;
    });
  },
};
