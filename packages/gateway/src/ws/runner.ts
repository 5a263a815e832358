import type { RunnerConnection, RunnerSink } from "@atelier/actors";
import { lockOf } from "@atelier/projections";
import { ApiError, toApiError } from "../http/errors.ts";
import { assembleContext, ARTIFACT_CHANNEL } from "../context/assemble.ts";
import { RunnerFrame, type GatewayToRunner } from "../protocol/runner.ts";
import type { Gateway } from "../server/gateway.ts";
import type { WorkspaceHost } from "../server/host.ts";
import { RateLimiter } from "../server/limits.ts";
import { lockDenial } from "./lock-denial.ts";
import { SocketSession } from "./session.ts";
import { admitFrame, closeCodeOf, type FrameGate, type Socket } from "./socket.ts";

/** How often the SDK should send a heartbeat: well inside 001's 30 s TTL. */
export const HEARTBEAT_MS = 10_000;

/**
 * An agent's runner socket (004's runner role). The runtime fences every call by the
 * connection's generation, so once a newer runner replaces this one its late frames are refused
 * (SIMULATION F14) and answered with `rejected`. Frames are handled one at a time in arrival
 * order; closing the socket disconnects the agent, which requeues its prompt.
 */
export class RunnerSession extends SocketSession {
  private connection: RunnerConnection | undefined;
  /** Frames for the runner held back until `hello` is out (a prompt may be dispatched while connecting). */
  private held: string[] | undefined = [];
  private chain: Promise<void> = Promise.resolve();
  /** Prompts dispatched to this runner whose first chunk has not arrived yet (time to first token). */
  private readonly awaitingFirstToken = new Set<string>();
  private readonly gate: FrameGate;

  constructor(
    gw: Gateway,
    private readonly host: WorkspaceHost,
    private readonly agent: string,
    private readonly secret: string,
    ws: Socket,
  ) {
    super(gw, ws);
    this.gate = {
      role: "runner",
      limiter: new RateLimiter(gw.limits.runnerRate, () => gw.clock.now()),
      metrics: gw.metrics,
      end: (code, reason) => this.end(code, reason),
    };
  }

  async open(): Promise<void> {
    this.gw.sessions.add(this);
    const sink: RunnerSink = {
      dispatch: ({ promptId, text, attempt }) => {
        this.gw.metrics.inc("atelier_prompts_dispatched_total", "Prompts sent to runners");
        this.awaitingFirstToken.add(promptId);
        this.send({ type: "prompt", promptId, attempt, text, context: assembleContext(this.host, this.agent) });
      },
      abort: (promptId) => this.send({ type: "cancel", promptId }),
      // 4409 is final for a runner: replaced by a newer one, or its workspace has ended. 4410 (a
      // hibernation, say) lets it reconnect.
      close: (reason) => this.end(reason === "replaced" || this.workspaceEnded() ? 4409 : 4410, `runner ${reason}`),
    };
    try {
      this.connection = await this.host.ws.runners.connect(this.agent, sink);
    } catch (error) {
      const e = toApiError(error) ?? new ApiError(409, "unavailable", String(error));
      return this.end(closeCodeOf(e), e.message);
    }
    this.gw.metrics.inc("atelier_ws_connections_total", "WebSocket connections accepted", { role: "runner" });
    if (this.ended) return void this.connection.close().catch(() => undefined);
    const held = this.held ?? [];
    this.held = undefined;
    this.send({ type: "hello", workspace: this.host.id, agent: this.agent, generation: this.connection.generation, heartbeatMs: HEARTBEAT_MS });
    for (const frame of held) this.ws.send(frame);
  }

  private workspaceEnded(): boolean {
    const state = this.host.ws.status();
    return state === "terminating" || state === "terminated";
  }

  private send(frame: GatewayToRunner): void {
    if (this.ended) return;
    const text = JSON.stringify(frame);
    if (this.held) this.held.push(text);
    else this.ws.send(text);
  }

  stillValid(): boolean {
    return this.gw.runnerTokens.verify(this.host.id, this.agent, this.secret);
  }

  /** The agent goes offline (a stale generation's close changes nothing). */
  protected release(): void {
    const c = this.connection;
    if (c) void this.chain.then(() => c.close()).catch(() => undefined);
  }

  message(data: unknown): void {
    if (this.ended) return;
    // No per-frame credential check: a runner's costs a query and a hash, and revoking one ends
    // its session through the gateway's sweep of stillValid().
    const frame = admitFrame(this.gate, RunnerFrame, data);
    if (!frame) return;
    const run = () => this.handle(frame).catch((error: unknown) => this.refused(frame, error));
    // Frames that arrive before the connection is established wait for it, in order.
    this.chain = this.chain.then(run, run);
  }

  private refused(frame: RunnerFrame, error: unknown): void {
    const e = toApiError(error);
    if (!e) return this.gw.log(`runner ${this.host.id}/${this.agent}: ${String(error)}`);
    this.gw.metrics.inc("atelier_runner_frames_refused_total", "Runner frames refused by the runtime", { code: e.code });
    const ref = "promptId" in frame ? frame.promptId : "requestId" in frame ? frame.requestId : frame.type;
    this.send({ type: "rejected", ref, code: e.code, message: e.message });
  }

  private get current(): boolean {
    return this.connection !== undefined && this.host.ws.runners.isCurrent(this.agent, this.connection.generation);
  }

  private async handle(frame: RunnerFrame): Promise<void> {
    const c = this.connection;
    if (!c) throw new ApiError(409, "stale_runner", "the runner is not connected");
    c.heartbeat();
    switch (frame.type) {
      case "heartbeat":
        return;
      case "status":
        return c.activity(frame.state);
      case "chunk":
        if (!this.current) throw new ApiError(409, "stale_runner", `generation ${c.generation} of ${this.agent} was replaced`);
        this.host.broadcast({ type: "stream", agent: this.agent, promptId: frame.promptId, kind: "chunk", text: frame.text });
        if (this.awaitingFirstToken.delete(frame.promptId)) await c.firstToken(frame.promptId);
        return;
      case "tool": {
        if (!this.current) throw new ApiError(409, "stale_runner", `generation ${c.generation} of ${this.agent} was replaced`);
        const { promptId, kind, file, summary } = frame;
        await c.tool(promptId, { kind, ...(file ? { file } : {}), summary });
        this.host.broadcast({ type: "stream", agent: this.agent, promptId, kind: "tool", tool: kind, ...(file ? { file } : {}), summary });
        // An edit is an artifact (003): durable on the bus, so context assembly can list it.
        if (kind === "edit" && file) await this.host.ws.bus.publish(ARTIFACT_CHANNEL, { file, agent: this.agent, promptId, summary }, { sender: this.agent });
        return;
      }
      case "lock.acquire": {
        if (!this.current) throw new ApiError(409, "stale_runner", `generation ${c.generation} of ${this.agent} was replaced`);
        const { requestId, file, mode } = frame;
        const pending = this.host.ws.locks.acquire(file, this.agent, mode, {
          ...(frame.wait !== undefined ? { wait: frame.wait } : {}),
          ...(frame.timeoutMs !== undefined ? { timeoutMs: frame.timeoutMs } : {}),
          ...(frame.leaseMs !== undefined ? { leaseMs: frame.leaseMs } : {}),
        });
        // A waiting acquire may take long: later frames (chunks, the result) must not queue behind it.
        // A denial reads the lock's holders from the read models, which may be being rebuilt.
        void pending
          .then((r) =>
            this.send(
              r.granted
                ? { type: "lock.result", requestId, granted: true, mode: r.mode, token: r.token, expiresAt: r.expiresAt }
                : { type: "lock.result", requestId, granted: false, ...lockDenial(file, r.reason, lockOf(this.host.projection, file)) },
            ),
          )
          .catch((error: unknown) => {
            this.host.projection.repair(error);
            this.refused(frame, error);
          });
        return;
      }
      case "lock.release":
        if (!this.current) throw new ApiError(409, "stale_runner", `generation ${c.generation} of ${this.agent} was replaced`);
        await this.host.ws.locks.release(frame.file, this.agent);
        return this.send({ type: "lock.released", requestId: frame.requestId });
      case "result":
        await c.complete(frame.promptId, { result: frame.text, tokensIn: frame.tokensIn, tokensOut: frame.tokensOut, cost: frame.cost });
        this.gw.metrics.inc("atelier_prompts_completed_total", "Prompts completed by runners");
        return;
      case "error":
        return c.fail(frame.promptId, frame.message);
    }
  }
}
