import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { WebSocket } from "ws";
import { startServer, type RunningServer, type ServerOptions } from "../../src/index.ts";

export interface Answer {
  readonly status: number;
  readonly body: any;
}

/** A server over a fresh data folder (the caller removes it) that has created workspace `name` with one agent, `claude`. */
export const serverWithWorkspace = async (name: string) => {
  const data = mkdtempSync(join(tmpdir(), `atelier-${name}-`));
  const server = await startServer({ dataDir: data, port: 0, webDist: null, log: () => undefined });
  const { host } = await server.gateway.createWorkspace({ name, agents: [{ agentId: "claude", vendor: "claude", model: "opus" }] });
  return { data, server, host };
};

/** A gateway on a free loopback port over a fresh data folder, with an owner token. */
export const testServer = async (options: Partial<ServerOptions> = {}) => {
  const dataDir = mkdtempSync(join(tmpdir(), "atelier-gw-"));
  const server: RunningServer = await startServer({ dataDir, host: "127.0.0.1", port: 0, webDist: null, log: () => undefined, ...options });
  const owner = server.gateway.tokens.create("owner", "owner").token;
  const api = async (method: string, path: string, body?: unknown, token: string | null = owner): Promise<Answer> => {
    const res = await fetch(`${server.url}/api/v2${path}`, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { "content-type": "application/json" } : {}) },
      ...(body !== undefined ? { body: typeof body === "string" ? body : JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: the test sees the text
    }
    return { status: res.status, body: parsed };
  };
  return {
    server,
    dataDir,
    owner,
    api,
    wsUrl: (workspace: string, query: string) => `${server.url.replace("http", "ws")}/api/v2/workspaces/${workspace}/ws?${query}`,
    close: async () => {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
};
export type TestServer = Awaited<ReturnType<typeof testServer>>;

/** A WebSocket client that records every frame and its close, with waits on both. */
export class Probe {
  readonly frames: any[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly socket: WebSocket;
  private waiters: Array<() => void> = [];

  constructor(url: string, headers: Record<string, string> = {}) {
    this.socket = new WebSocket(url, { headers });
    this.socket.on("message", (data) => {
      this.frames.push(JSON.parse(String(data)));
      for (const w of this.waiters.splice(0)) w();
    });
    this.closed = new Promise((resolve) => {
      this.socket.on("close", (code, reason) => {
        resolve({ code, reason: reason.toString() });
        for (const w of this.waiters.splice(0)) w();
      });
      this.socket.on("error", () => undefined);
    });
  }

  opened(): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.socket.readyState === WebSocket.OPEN) return resolve();
      this.socket.once("open", () => resolve());
      this.socket.once("unexpected-response", (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
  }

  send(frame: unknown): void {
    this.socket.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  /** Waits until some frame matches `predicate`, and returns it. */
  async until(predicate: (frame: any) => boolean, timeoutMs = 10_000): Promise<any> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.frames.find(predicate);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no matching frame in ${timeoutMs} ms; got ${JSON.stringify(this.frames.slice(-5)).slice(0, 800)}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
  }

  events(): any[] {
    return this.frames.filter((f) => f.type === "event").map((f) => f.event);
  }

  close(): Promise<{ code: number; reason: string }> {
    this.socket.close();
    return this.closed;
  }
}

/** Polls `check` until it returns a value other than undefined/false. */
export const eventually = async <T>(check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 10_000): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`condition not met in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
};

export const agents4 = [
  { id: "claude", vendor: "claude", model: "claude-opus" },
  { id: "gemini", vendor: "gemini", model: "gemini-pro" },
  { id: "kimi", vendor: "kimi", model: "kimi-k2" },
  { id: "codex", vendor: "codex", model: "gpt-codex" },
] as const;
