/**
 * The gateway's REST API (/api/v2, bearer token). Shapes follow packages/gateway/src/routes; the
 * reads are lenient (lists may come as arrays or `{ items }`) so a small server change does not
 * blank the studio.
 */
import type { WorldState } from "@atelier/actors/machines";
import type { Env } from "../model/timeline.ts";

const TOKEN_KEY = "atelier.token";

/** Takes `?token=` from the URL into sessionStorage (and out of the address bar); returns the token. */
export const adoptToken = (): string | null => {
  const url = new URL(window.location.href);
  const fromUrl = url.searchParams.get("token");
  if (fromUrl) {
    sessionStorage.setItem(TOKEN_KEY, fromUrl);
    url.searchParams.delete("token");
    window.history.replaceState(null, "", url.pathname + url.search + url.hash);
    return fromUrl;
  }
  return sessionStorage.getItem(TOKEN_KEY);
};
export const token = (): string | null => sessionStorage.getItem(TOKEN_KEY);
export const setToken = (t: string): void => sessionStorage.setItem(TOKEN_KEY, t);

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export interface AgentSpec {
  readonly id: string;
  readonly vendor: "claude" | "gemini" | "kimi" | "codex" | "custom";
  readonly model: string;
}

export interface WorkspaceSummary {
  readonly id: string;
  readonly name: string;
  readonly state: string;
  readonly lastSeq?: number;
  readonly agents?: number;
  readonly agentsOnline?: number;
  readonly openPrompts?: number;
  readonly heldLocks?: number;
  readonly createdAt?: string | number;
  readonly lastActivityAt?: number | null;
  readonly archive?: { readonly hibernatedAt: string } | null;
  /** Why an `unavailable` workspace could not be opened. */
  readonly error?: string;
  /** When it became unavailable: at the server's start (tried again at the next), or when its log failed (reopened on its own). */
  readonly since?: "start" | "log-failure";
}

export interface TimelinePage {
  readonly items: Env[];
  readonly next: number | null;
  readonly lastSeq: number;
}

const base = "/api/v2";

const request = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
  const headers: Record<string, string> = {};
  const t = token();
  if (t) headers.authorization = `Bearer ${t}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(base + path, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  const text = await res.text();
  const json: unknown = text ? JSON.parse(text) : undefined;
  if (!res.ok) {
    const err = (json as { error?: { code?: string; message?: string; details?: unknown } } | undefined)?.error;
    throw new ApiError(res.status, err?.code ?? String(res.status), err?.message ?? res.statusText, err?.details);
  }
  return json as T;
};

const items = <T>(v: unknown, key = "items"): T[] => {
  if (Array.isArray(v)) return v as T[];
  if (v && typeof v === "object") {
    const o = v as Record<string, unknown>;
    for (const k of [key, "items", "workspaces", "events"]) if (Array.isArray(o[k])) return o[k] as T[];
  }
  return [];
};

const enc = encodeURIComponent;

export const api = {
  listWorkspaces: async (): Promise<WorkspaceSummary[]> => items<WorkspaceSummary>(await request("GET", "/workspaces"), "workspaces"),
  createWorkspace: (name: string, agents: readonly AgentSpec[]) => request<Record<string, unknown>>("POST", "/workspaces", { name, agents }),
  status: (id: string) => request<Record<string, unknown>>("GET", `/workspaces/${enc(id)}/status`),
  hibernate: (id: string) => request<unknown>("POST", `/workspaces/${enc(id)}/hibernate`, {}),
  resume: (id: string) => request<unknown>("POST", `/workspaces/${enc(id)}/resume`, {}),
  restart: (id: string) => request<unknown>("POST", `/workspaces/${enc(id)}/restart`, {}),
  terminate: (id: string) => request<unknown>("DELETE", `/workspaces/${enc(id)}`),
  execute: (id: string, agent: string, prompt: string, clientRequestId: string, priority = 0) =>
    request<{ promptId: string; state: string; duplicate?: boolean }>("POST", `/workspaces/${enc(id)}/agents/${enc(agent)}/execute`, { prompt, clientRequestId, priority }),
  cancel: (id: string, agent: string, promptId: string) => request<unknown>("POST", `/workspaces/${enc(id)}/agents/${enc(agent)}/prompts/${enc(promptId)}/cancel`, {}),
  /** Every actor's state at a stored seq at or before `at` (else the oldest stored; null when none is). */
  snapshot: async (id: string, at: number): Promise<WorldState | null> =>
    (await request<{ world: WorldState | null }>("GET", `/workspaces/${enc(id)}/snapshot?at=${at}`)).world,
  /** Whole envelopes from the log (`GET /events`), for folding in the browser. */
  events: async (id: string, from: number, limit: number): Promise<TimelinePage> => {
    const r = await request<Record<string, unknown>>("GET", `/workspaces/${enc(id)}/events?from=${from}&limit=${limit}`);
    const list = items<Env>(r, "items");
    const next = typeof r.next === "number" ? r.next : null;
    const lastSeq = typeof r.head === "number" ? r.head : typeof r.lastSeq === "number" ? r.lastSeq : (list.at(-1)?.seq ?? 0);
    return { items: list, next, lastSeq };
  },
};

/** A fresh idempotency key for execute. */
export const requestId = (): string => (crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(36).slice(2)}`);
