/**
 * The client side of `/api/v2/workspaces/:id/ws?role=client`: an init message, then every event
 * as a log envelope, ephemeral stream chunks and presence. Reconnects with `since=<head>` so the
 * gateway sends exactly the gap (or an explicit resync, answered by reloading).
 */
import { isEnvelope, type Env } from "../model/timeline.ts";
import { token } from "./client.ts";

export interface Person {
  readonly id: string;
  readonly name: string;
  readonly role?: string;
}

/** A tool call a runner reported while working on a prompt (ephemeral, never in the log). */
export interface ToolUse {
  readonly tool: string;
  readonly file?: string;
  readonly summary: string;
  readonly at: number;
}

export interface LiveHandlers {
  /** Envelopes in seq order (a batch may hold one). */
  events(envs: Env[]): void;
  init?(msg: Record<string, unknown>): void;
  chunk?(promptId: string, agent: string | undefined, text: string): void;
  tool?(promptId: string, agent: string | undefined, tool: ToolUse): void;
  presence?(people: Person[]): void;
  resync?(): void;
  status?(s: "connecting" | "open" | "closed"): void;
}

export const wsUrl = (path: string, params: Record<string, string | number>): string => {
  const url = new URL(path, window.location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, String(v));
  const t = token();
  if (t) url.searchParams.set("token", t);
  return url.toString();
};

const asPeople = (v: unknown): Person[] =>
  Array.isArray(v)
    ? v.map((p) => {
        const o = (typeof p === "string" ? { id: p, name: p } : p) as Record<string, unknown>;
        const name = String(o.name ?? o.principal ?? o.user ?? o.id ?? "?");
        return { id: String(o.id ?? o.clientId ?? name), name, ...(typeof o.role === "string" ? { role: o.role } : {}) };
      })
    : [];

/** Dispatches one parsed frame. Exported for tests. */
export const dispatchFrame = (msg: unknown, h: LiveHandlers, people: Map<string, Person>): void => {
  if (Array.isArray(msg)) {
    const envs = msg.filter(isEnvelope);
    if (envs.length) h.events(envs);
    return;
  }
  if (isEnvelope(msg)) return h.events([msg]);
  if (!msg || typeof msg !== "object") return;
  const m = msg as Record<string, unknown>;
  const type = String(m.type ?? m.kind ?? "");
  if (Array.isArray(m.events)) {
    const envs = m.events.filter(isEnvelope);
    if (envs.length) h.events(envs);
  }
  if (m.event && isEnvelope(m.event)) h.events([m.event]);
  switch (type) {
    case "init":
    case "hello":
      h.init?.(m);
      if (m.presence || m.people || m.clients) {
        people.clear();
        for (const p of asPeople(m.presence ?? m.people ?? m.clients)) people.set(p.id, p);
        h.presence?.([...people.values()]);
      }
      break;
    case "chunk":
    case "stream":
    case "stream.chunk":
    case "prompt.chunk": {
      const promptId = String(m.promptId ?? "");
      const agent = typeof m.agent === "string" ? m.agent : undefined;
      if (!promptId) break;
      if (m.kind === "tool") h.tool?.(promptId, agent, { tool: String(m.tool ?? "tool"), ...(typeof m.file === "string" ? { file: m.file } : {}), summary: String(m.summary ?? ""), at: Date.now() });
      else h.chunk?.(promptId, agent, String(m.text ?? m.delta ?? ""));
      break;
    }
    case "presence":
    case "presence.joined":
    case "presence.left":
    case "presence.join":
    case "presence.leave": {
      if (Array.isArray(m.people) || Array.isArray(m.clients) || Array.isArray(m.present)) {
        people.clear();
        for (const p of asPeople(m.people ?? m.clients ?? m.present)) people.set(p.id, p);
      } else {
        const [p] = asPeople([m.person ?? m.client ?? m]);
        const left = type.endsWith("left") || type.endsWith("leave") || m.event === "leave" || m.action === "leave";
        if (p) left ? people.delete(p.id) : people.set(p.id, p);
      }
      h.presence?.([...people.values()]);
      break;
    }
    case "resync":
      h.resync?.();
      break;
  }
};

/** Opens the live socket; returns a closer. `head()` is read on each (re)connect for `since`. */
export const connectLive = (workspaceId: string, head: () => number, h: LiveHandlers, name?: string): (() => void) => {
  let ws: WebSocket | undefined;
  let closed = false;
  let delay = 250;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const people = new Map<string, Person>();
  const open = () => {
    if (closed) return;
    h.status?.("connecting");
    const params: Record<string, string | number> = { role: "client", since: head() };
    if (name) params.name = name;
    ws = new WebSocket(wsUrl(`/api/v2/workspaces/${encodeURIComponent(workspaceId)}/ws`, params));
    ws.onopen = () => {
      delay = 250;
      h.status?.("open");
    };
    ws.onmessage = (ev) => {
      let msg: unknown;
      try {
        msg = JSON.parse(String(ev.data));
      } catch {
        return;
      }
      dispatchFrame(msg, h, people);
    };
    ws.onclose = () => {
      h.status?.("closed");
      // Nobody is known to be here until the next connection's init says so.
      people.clear();
      h.presence?.([]);
      if (closed) return;
      timer = setTimeout(open, delay);
      delay = Math.min(5000, delay * 2);
    };
  };
  open();
  return () => {
    closed = true;
    if (timer) clearTimeout(timer);
    ws?.close();
  };
};
