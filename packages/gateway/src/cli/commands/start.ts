import { existsSync } from "node:fs";
import { join } from "node:path";
import { createDemo, startDemoRunners } from "../../demo/demo.ts";
import { archiveFlagOptions, archiveSettings } from "../../archive/settings.ts";
import { startServer } from "../../server/server.ts";
import { parseCommandArgs, wholeNumber, UsageError, type Command } from "../command.ts";
import { DEFAULT_DATA } from "./token.ts";

/** Resolves on the first SIGINT or SIGTERM. */
const stopSignal = () =>
  new Promise<string>((resolve) => {
    process.once("SIGINT", () => resolve("SIGINT"));
    process.once("SIGTERM", () => resolve("SIGTERM"));
  });

export const start: Command = {
  path: ["start"],
  usage: "atelier start [--data d] [--port 7070] [--host h] [--nats u] [--gcs-bucket b] [--s3-bucket b]",
  summary: "serve API + studio (also --allow-origin <url>, --no-demo); first run: owner URL, demo",
  async run(args, io) {
    const { values } = parseCommandArgs(
      args,
      {
        data: { type: "string" },
        port: { type: "string" },
        host: { type: "string" },
        nats: { type: "string" },
        "allow-origin": { type: "string", multiple: true },
        "no-demo": { type: "boolean" },
        ...archiveFlagOptions,
      },
      { min: 0, max: 0 },
    );
    const port = wholeNumber("--port", values.port, 0) ?? 7070;
    if (port > 65535) throw new UsageError("--port must be ≤ 65535");
    // Listen before the slow part: a signal during startup still gets a clean shutdown after it.
    const stopped = stopSignal();
    const dataDir = values.data ?? DEFAULT_DATA;
    const firstRun = !existsSync(join(dataDir, "catalog.db"));
    const server = await startServer({
      dataDir,
      host: values.host ?? "127.0.0.1",
      port,
      ...(values.nats ? { nats: values.nats } : {}),
      ...(values["allow-origin"] ? { origins: values["allow-origin"] } : {}),
      log: io.err,
      archive: archiveSettings(dataDir, values),
    });
    const gw = server.gateway;
    io.err(`archive: ${gw.archive.primary.name}${gw.archive.mirror ? `, mirror ${gw.archive.mirror.name}` : ""} (organizations/${gw.archive.org}/teams/${gw.archive.team}/users/${gw.archive.user}/…)`);
    const shown = ["0.0.0.0", "::"].includes(values.host ?? "") ? server.url.replace(/\/\/[^:]+|\/\/\[::\]/, "//127.0.0.1") : server.url;
    if (!gw.tokens.hasOwner()) {
      // Jupyter style: the one secret a person needs, in the URL they click. Only its hash is kept.
      const { token } = gw.tokens.create("owner", "first-run owner");
      io.out(`Atelier is running at ${shown}/?token=${token}`);
    } else {
      io.out(`Atelier is running at ${shown}/ (an owner token was issued on first run; \`atelier token create --role owner\` makes another)`);
    }
    const demo = values["no-demo"] !== true;
    if (demo && firstRun) await createDemo(gw);
    // The demo's runners drive the demo workspaces the start opens in the background. A signal
    // meanwhile is not kept waiting for the start: closing stops it at its next step.
    const opened = await Promise.race([gw.ready.then(() => true), stopped.then(() => false)]);
    const runners = demo && opened ? startDemoRunners(gw, server.url) : [];
    const signal = await stopped;
    io.err(`${signal}: closing sockets and workspaces`);
    await Promise.all(runners.map((r) => r.close()));
    await server.close();
    return 0;
  },
};
