import { spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { runCli } from "../src/cli/main.ts";
import { eventually, serverWithWorkspace } from "./support/server.ts";

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe("atelier runner --scripted", () => {
  it("serves its agent until the gateway ends the connection for good (here: the workspace is terminated), then exits 1 saying so", async () => {
    const { data, server, host } = await serverWithWorkspace("runner-cli");
    dirs.push(data);
    const token = server.gateway.runnerTokens.issue(host.id, "claude");
    const err: string[] = [];
    const exited = runCli(["runner", "--scripted", "--url", server.url, "--workspace", host.id, "--agent", "claude", "--token", token], {
      out: () => undefined,
      err: (l) => err.push(l),
      isTTY: false,
    });
    await eventually(() => host.ws.runners.connected().get("claude") === 1);
    await host.ws.lifecycle.terminate("ana");
    expect(await exited).toBe(1);
    expect(err).toContain("connected (generation 1)");
    expect(err.at(-1)).toBe("atelier: the gateway ended the connection (4409 runner workspace_stopped); not reconnecting");
    expect([...host.ws.log.read({ from: host.head })][0]!.type).toBe("workspace.terminated");
    await server.close();
  });

  it("as a process of its own, lives through its workspace's hibernation and is back once it resumes", async () => {
    const { data, server, host } = await serverWithWorkspace("runner-cli-process");
    dirs.push(data);
    const id = host.id;
    const token = server.gateway.runnerTokens.issue(id, "claude");
    // Its own process: while it waits to reconnect, nothing else may keep it alive (here, vitest would).
    const main = fileURLToPath(new URL("../src/cli/main.ts", import.meta.url));
    const child = spawn(process.execPath, ["--import", "tsx", main, "runner", "--scripted", "--url", server.url, "--workspace", id, "--agent", "claude", "--token", token], { stdio: ["ignore", "ignore", "pipe"] });
    const err: string[] = [];
    child.stderr.setEncoding("utf8").on("data", (d: string) => err.push(...d.trim().split("\n")));
    let exit: number | null | undefined;
    child.on("exit", (code) => (exit = code));
    try {
      await eventually(() => host.ws.runners.connected().get("claude") === 1, 20_000);
      await host.ws.lifecycle.hibernate("ana");
      await eventually(() => server.gateway.hibernated(id)?.state === "hibernated");
      // Refused while asleep, again and again, and still there to try again; it says so once per reason
      // (hibernating, then hibernated), not at every retry.
      const refusals = () => Number(/atelier_ws_refused_total\{code="hibernated"\} (\d+)/.exec(server.gateway.metrics.render())?.[1] ?? 0);
      await eventually(() => refusals() >= 4, 15_000);
      expect(exit).toBeUndefined();
      expect(err.filter((l) => l.startsWith("closed 4503")).length).toBeLessThanOrEqual(2);
      const back = await server.gateway.resume(id);
      await eventually(() => back.ws.runners.connected().get("claude") === 2, 15_000);
      // Its own account of it, once its stderr has come through.
      await eventually(() => err.includes("connected (generation 2)"));
    } finally {
      child.kill("SIGINT");
      await server.close();
    }
  }, 60_000);
});
