import { WebSocket } from "ws";
import type { GatewayToRunner, LockDenial, PromptContext, RunnerFrame } from "../protocol/runner.ts";

export interface RunnerOptions {
  /** The gateway, `http://host:port` (or `ws://`). */
  readonly url: string;
  readonly workspace: string;
  readonly agent: string;
  /** The agent's runner token (shown once when the workspace was created). */
  readonly token: string;
  /** Reconnect after a dropped connection, with exponential backoff (default true). */
  readonly reconnect?: boolean;
  /** Called with what happens to the connection, for logs. */
  readonly onEvent?: (event: RunnerEvent) => void;
}

export type RunnerEvent =
  | { type: "connected"; generation: number }
  | { type: "closed"; code: number; reason: string; willReconnect: boolean }
  | { type: "rejected"; ref: string; code: string; message: string };

export type LockGrant =
  | { readonly granted: true; readonly mode: "shared" | "exclusive"; readonly token: number; readonly expiresAt: number }
  | ({ readonly granted: false } & LockDenial);

/** One dispatched prompt, as a runner's handler sees it. */
export interface PromptHandle {
  readonly promptId: string;
  readonly attempt: number;
  readonly text: string;
  readonly context: PromptContext;
  /** Aborted when the gateway cancels the prompt or the connection drops (it will be requeued). */
  readonly signal: AbortSignal;
  status(state: "analyzing" | "editing" | "indexing"): void;
  /** A streamed token delta or progress line: shown live, never stored. */
  chunk(text: string): void;
  tool(kind: "edit" | "read" | "run" | "search" | "lock", summary: string, file?: string): void;
  /** Acquires a file lock through the coordinator; with `wait`, queues FIFO until granted. */
  acquire(file: string, mode: "shared" | "exclusive", options?: { wait?: boolean; timeoutMs?: number; leaseMs?: number }): Promise<LockGrant>;
  release(file: string): Promise<void>;
}

export interface PromptOutcome {
  readonly text: string;
  readonly tokensIn: number;
  readonly tokensOut: number;
  readonly cost: number;
}

/** Works on one prompt; resolve with the final response, throw to report an error. */
export type PromptHandler = (prompt: PromptHandle) => Promise<PromptOutcome>;

/** Close codes after which reconnecting cannot help: bad or rotated token, a newer runner, gone. */
const FINAL_CODES = new Set([4400, 4401, 4403, 4404, 4409]);

/**
 * A runner's connection to the gateway (004): receives prompts with their assembled context,
 * reports status, chunks, tools, lock requests and the result, sends heartbeats, and reconnects
 * after a drop (the gateway has requeued the prompt in flight and dispatches it again).
 */
export class RunnerClient {
  private socket: WebSocket | undefined;
  private stopped = false;
  private attempt = 0;
  private heartbeat: NodeJS.Timeout | undefined;
  /** The pending reconnect. Not unref'd: a runner process with nothing else to do must live to reconnect. */
  private retry: NodeJS.Timeout | undefined;
  private requests = 0;
  private readonly pending = new Map<string, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly inflight = new Map<string, AbortController>();
  private connectedOnce: { resolve: () => void; reject: (e: Error) => void } | undefined;
  /** The generation of the current connection (0 before the first `hello`). */
  generation = 0;
  /** Resolves at the first `hello`; rejects if the first attempt is refused. */
  readonly ready: Promise<void>;

  constructor(
    private readonly options: RunnerOptions,
    private readonly handler: PromptHandler,
  ) {
    this.ready = new Promise((resolve, reject) => (this.connectedOnce = { resolve, reject }));
    this.ready.catch(() => undefined);
    this.open();
  }

  private endpoint(): string {
    const base = this.options.url.replace(/^http/, "ws").replace(/\/+$/, "");
    return `${base}/api/v2/workspaces/${encodeURIComponent(this.options.workspace)}/ws?role=runner&agent=${encodeURIComponent(this.options.agent)}`;
  }

  private open(): void {
    const socket = new WebSocket(this.endpoint(), { headers: { authorization: `Bearer ${this.options.token}` } });
    this.socket = socket;
    socket.on("message", (data) => this.receive(JSON.parse(String(data)) as GatewayToRunner));
    socket.on("error", () => undefined); // the close that follows says what happened
    socket.on("close", (code, reason) => this.closed(socket, code, reason.toString()));
  }

  private send(frame: RunnerFrame): void {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(frame));
  }

  private receive(frame: GatewayToRunner): void {
    switch (frame.type) {
      case "hello":
        this.generation = frame.generation;
        this.attempt = 0;
        clearInterval(this.heartbeat);
        this.heartbeat = setInterval(() => this.send({ type: "heartbeat" }), frame.heartbeatMs);
        this.options.onEvent?.({ type: "connected", generation: frame.generation });
        this.connectedOnce?.resolve();
        return;
      case "prompt":
        return void this.run(frame);
      case "cancel":
        return this.inflight.get(frame.promptId)?.abort(new Error("cancelled by the gateway"));
      case "lock.result":
        return this.settle(frame.requestId, (p) => p.resolve(frame.granted
              ? { granted: true, mode: frame.mode, token: frame.token, expiresAt: frame.expiresAt }
              : { granted: false, reason: frame.reason, holders: frame.holders, waiting: frame.waiting, message: frame.message }));
      case "lock.released":
        return this.settle(frame.requestId, (p) => p.resolve(undefined));
      case "rejected":
        this.options.onEvent?.({ type: "rejected", ref: frame.ref, code: frame.code, message: frame.message });
        return this.settle(frame.ref, (p) => p.reject(new Error(`${frame.code}: ${frame.message}`)));
    }
  }

  private settle(id: string, fn: (p: { resolve: (v: unknown) => void; reject: (e: Error) => void }) => void): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    fn(p);
  }

  private request<T>(frame: (requestId: string) => RunnerFrame): Promise<T> {
    const requestId = `r${++this.requests}`;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(requestId, { resolve: resolve as (v: unknown) => void, reject });
      this.send(frame(requestId));
    });
  }

  private async run(frame: Extract<GatewayToRunner, { type: "prompt" }>): Promise<void> {
    const controller = new AbortController();
    this.inflight.set(frame.promptId, controller);
    const { promptId } = frame;
    const handle: PromptHandle = {
      promptId,
      attempt: frame.attempt,
      text: frame.text,
      context: frame.context,
      signal: controller.signal,
      status: (state) => this.send({ type: "status", promptId, state }),
      chunk: (text) => this.send({ type: "chunk", promptId, text }),
      tool: (kind, summary, file) => this.send({ type: "tool", promptId, kind, summary, ...(file !== undefined ? { file } : {}) }),
      acquire: (file, mode, o = {}) => this.request<LockGrant>((requestId) => ({ type: "lock.acquire", requestId, file, mode, ...o })),
      release: (file) => this.request<void>((requestId) => ({ type: "lock.release", requestId, file })),
    };
    const started = Date.now();
    try {
      const outcome = await this.handler(handle);
      if (!controller.signal.aborted) this.send({ type: "result", promptId, ...outcome, latencyMs: Date.now() - started });
    } catch (error) {
      if (!controller.signal.aborted) this.send({ type: "error", promptId, message: error instanceof Error ? error.message : String(error) });
    } finally {
      this.inflight.delete(promptId);
    }
  }

  private closed(socket: WebSocket, code: number, reason: string): void {
    if (socket !== this.socket) return;
    clearInterval(this.heartbeat);
    for (const c of this.inflight.values()) c.abort(new Error(`connection closed (${code})`));
    for (const p of this.pending.values()) p.reject(new Error(`connection closed (${code}) before the gateway answered`));
    this.pending.clear();
    const willReconnect = !this.stopped && this.options.reconnect !== false && !FINAL_CODES.has(code);
    this.options.onEvent?.({ type: "closed", code, reason, willReconnect });
    if (this.generation === 0 && !willReconnect) this.connectedOnce?.reject(new Error(`runner refused: ${code} ${reason}`));
    if (!willReconnect) return;
    const delay = Math.min(10_000, 100 * 2 ** this.attempt++) * (0.5 + Math.random() / 2);
    this.retry = setTimeout(() => !this.stopped && this.open(), delay);
  }

  /** Closes for good (the agent goes offline; a prompt in flight is requeued). */
  close(): Promise<void> {
    this.stopped = true;
    clearInterval(this.heartbeat);
    clearTimeout(this.retry);
    const socket = this.socket;
    if (!socket || socket.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      socket.once("close", () => resolve());
      socket.close(1000, "runner stopped");
    });
  }

  /** Drops the connection without a close handshake and stops, as a crash would (tests use it). */
  kill(): void {
    this.stopped = true;
    clearInterval(this.heartbeat);
    clearTimeout(this.retry);
    this.socket?.terminate();
  }
}
