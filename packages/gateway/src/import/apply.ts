import { randomBytes } from "node:crypto";
import { existsSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_WORKSPACE_CONFIG, openWorkspace, Vendor, type RunnerConnection, type Workspace } from "@atelier/actors";
import { VirtualClock } from "@atelier/events";
import { ARTIFACT_CHANNEL } from "../context/assemble.ts";
import { newManifest, workspaceDir, workspacesDir, writeManifest } from "../server/folder.ts";
import type { SessionLine, SessionType } from "./session.ts";

const YEAR_MS = 365 * 24 * 3_600_000;
const HOUR_MS = 3_600_000;

export interface ImportOptions {
  readonly dataDir: string;
  readonly workspace?: string;
  readonly name?: string;
}

type Line<T extends SessionType> = SessionLine<T>;

/** For each user message without `to`: the agents that answer before the next user message. */
const recipients = (lines: readonly SessionLine[]): Map<SessionLine, string[]> => {
  const result = new Map<SessionLine, string[]>();
  let current: string[] | undefined;
  for (const line of lines) {
    if (line.type === "user_message") result.set(line, (current = []));
    else if (line.type === "llm_response" && current && !current.includes(line.agent)) current.push(line.agent);
  }
  return result;
};

const vendorOf = (agent: string, declared: string | undefined): typeof Vendor.Type => {
  const known = Vendor.literals as readonly string[];
  return (known.includes(declared ?? "") ? declared : known.includes(agent) ? agent : "custom") as typeof Vendor.Type;
};

/**
 * Replays a checked session log through the real actors on a virtual clock set to each line's
 * time, so the timeline has the session's own timestamps and every event is one the machines
 * accept. Runners are stand-ins that never hear from a person; user messages go to the agents
 * that answered them (or to the bus `chat` channel when nobody did). Built in a hidden folder and
 * renamed into place at the end: a failure leaves nothing behind.
 */
export const applySession = async (lines: readonly SessionLine[], options: ImportOptions): Promise<{ id: string; name: string; dir: string; head: number }> => {
  const start = lines.find((l): l is Line<"session_start"> => l.type === "session_start");
  const id = options.workspace ?? start?.payload.workspace_id ?? `ws_${randomBytes(8).toString("hex")}`;
  const name = options.name ?? start?.payload.name ?? `Imported session ${id}`;
  const final = workspaceDir(options.dataDir, id);
  if (existsSync(final)) throw new Error(`workspace ${id} already exists in ${options.dataDir}`);
  // Named after this process, so that a start can tell a crashed import's folder from one under way.
  const tmp = join(workspacesDir(options.dataDir), `.import-${id}-${process.pid}-${randomBytes(4).toString("hex")}`);
  const first = lines[0]!.at;
  const span = lines.at(-1)!.at - first;
  const clock = new VirtualClock(first);
  let ws: Workspace | undefined;
  try {
    writeManifest(tmp, newManifest(id, name, first));
    ws = await openWorkspace(tmp, {
      workspace: id,
      name,
      clock,
      // The session's own pace must not hibernate or expire it mid-import, nor time its stand-in runners out.
      config: {
        hibernateAfterMs: Math.max(DEFAULT_WORKSPACE_CONFIG.hibernateAfterMs, span + HOUR_MS),
        lifetimeMs: Math.max(DEFAULT_WORKSPACE_CONFIG.lifetimeMs, span + HOUR_MS),
        maxLifetimeMs: Math.max(DEFAULT_WORKSPACE_CONFIG.maxLifetimeMs, span + 2 * HOUR_MS),
      },
      heartbeatTtlMs: YEAR_MS,
    });
    const runners = new Map<string, RunnerConnection>();
    const to = recipients(lines);
    const sink = { dispatch: () => undefined, abort: () => undefined, close: () => undefined };
    for (const line of lines) {
      clock.advanceTo(line.at);
      await ws.settled();
      await applyLine(ws, line, runners, to, sink);
    }
    for (const conn of runners.values()) await conn.close();
    const head = ws.log.head();
    await ws.close();
    ws = undefined;
    renameSync(tmp, final);
    return { id, name, dir: final, head };
  } catch (error) {
    await ws?.close().catch(() => undefined);
    rmSync(tmp, { recursive: true, force: true });
    throw error;
  }
};

const applyLine = async (
  ws: Workspace,
  line: SessionLine,
  runners: Map<string, RunnerConnection>,
  to: Map<SessionLine, string[]>,
  sink: Parameters<Workspace["runners"]["connect"]>[1],
): Promise<void> => {
  const { agent } = line;
  const at = `line ${line.line}`;
  switch (line.type) {
    case "session_start":
    case "session_end":
      return;
    case "agent_init": {
      const p = (line as Line<"agent_init">).payload;
      await ws.agents.register({ agentId: agent, vendor: vendorOf(agent, p.vendor), model: p.model, ...(p.focus !== undefined ? { focusPrompt: p.focus } : {}) });
      runners.set(agent, await ws.runners.connect(agent, sink));
      return;
    }
    case "user_message": {
      const p = (line as Line<"user_message">).payload;
      const targets = p.to !== undefined ? [p.to] : (to.get(line) ?? []);
      if (targets.length === 0) return void (await ws.bus.publish("chat", { content: p.content }, { sender: agent }));
      for (const target of targets) await ws.prompts.enqueue(target, { text: p.content, author: agent });
      return;
    }
    case "file_lock_acquire": {
      const p = (line as Line<"file_lock_acquire">).payload;
      const r = await ws.locks.acquire(p.file, agent, p.type, { leaseMs: YEAR_MS });
      if (!r.granted) throw new Error(`${at}: ${agent} could not take ${p.file}`);
      return;
    }
    case "file_lock_release":
      return ws.locks.release((line as Line<"file_lock_release">).payload.file, agent);
    case "file_edit": {
      const p = (line as Line<"file_edit">).payload;
      await ws.bus.publish(ARTIFACT_CHANNEL, { file: p.file, agent, summary: `${p.lines_changed ?? "?"} lines changed`, ...(p.diff ? { diff: p.diff } : {}) }, { sender: agent });
      return;
    }
    case "llm_response": {
      const p = (line as Line<"llm_response">).payload;
      // A response with no recorded prompt still needs one in flight to complete.
      if (!ws.prompts.get(agent)?.processing) await ws.prompts.enqueue(agent, { text: "(no prompt recorded in the session log)", author: "system" });
      const promptId = ws.prompts.get(agent)?.processing;
      if (!promptId) throw new Error(`${at}: ${agent} has no prompt in flight to answer`);
      await runners.get(agent)!.complete(promptId, { result: p.content ?? "", tokensIn: p.prompt_tokens ?? 0, tokensOut: p.completion_tokens ?? 0, cost: p.cost ?? 0 });
      return;
    }
  }
};
