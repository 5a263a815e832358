import { RunnerClient } from "../../runner/connection.ts";
import { scriptedHandler } from "../../runner/scripted.ts";
import { UsageError, parseCommandArgs, wholeNumber, type Command } from "../command.ts";

export const runner: Command = {
  path: ["runner"],
  usage: "atelier runner --scripted --url --workspace --agent --token",
  summary: "the built-in scripted runner for one agent (plays the seed's refactor); --pace ms; exits 1 once the gateway ends it for good",
  async run(args, io) {
    const { values } = parseCommandArgs(
      args,
      { scripted: { type: "boolean" }, url: { type: "string" }, workspace: { type: "string" }, agent: { type: "string" }, token: { type: "string" }, pace: { type: "string" } },
      { min: 0, max: 0 },
    );
    if (!values.scripted) throw new UsageError("only the scripted runner is built in (--scripted); real runners use @atelier/gateway/runner");
    for (const name of ["url", "workspace", "agent", "token"] as const) if (!values[name]) throw new UsageError(`--${name} is required`);
    // Runs until Ctrl-C, or until the gateway ends the connection for good (a newer runner, a
    // revoked token, a terminated workspace): there is nothing left to serve then.
    let stop: (ended?: string) => void = () => undefined;
    const stopped = new Promise<string | undefined>((resolve) => (stop = resolve));
    // A workspace in the archive refuses each retry (≤ 10 s apart) the same way: said once, not every time.
    let lastLine = "";
    const say = (line: string) => {
      if (line !== lastLine) io.err(line);
      lastLine = line;
    };
    const client = new RunnerClient(
      {
        url: values.url!,
        workspace: values.workspace!,
        agent: values.agent!,
        token: values.token!,
        onEvent: (e) => {
          say(e.type === "connected" ? `connected (generation ${e.generation})` : e.type === "closed" ? `closed ${e.code} ${e.reason}${e.willReconnect ? ", reconnecting" : ""}` : `rejected ${e.ref}: ${e.code}`);
          if (e.type === "closed" && !e.willReconnect) stop(`${e.code} ${e.reason}`);
        },
      },
      scriptedHandler(values.agent!, wholeNumber("--pace", values.pace, 0)),
    );
    try {
      await client.ready;
    } catch (error) {
      io.err(`atelier: ${(error as Error).message}`);
      return 1;
    }
    const onSignal = () => stop();
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    const ended = await stopped;
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await client.close();
    if (ended === undefined) return 0;
    io.err(`atelier: the gateway ended the connection (${ended}); not reconnecting`);
    return 1;
  },
};
