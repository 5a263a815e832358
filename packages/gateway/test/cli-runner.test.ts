import { rmSync } from "node:fs";
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
});
