import { randomBytes } from "node:crypto";
import type { Principal } from "../auth/tokens.ts";
import { can } from "../auth/roles.ts";
import { forbidden, notFound, toApiError } from "../http/errors.ts";
import { ClientFrame } from "../protocol/client.ts";
import type { Gateway } from "../server/gateway.ts";
import type { ClientSink, WorkspaceHost } from "../server/host.ts";
import { initPayload } from "../server/state.ts";
import { enqueuePrompt } from "../server/prompts.ts";
import { SocketSession } from "./session.ts";
import { admitFrame, closeWith, tokenGate, errorFrame, type FrameGate, type Socket } from "./socket.ts";

/**
 * A studio socket (004's client role): an `init` then every committed event in seq order with no
 * gap and no duplicate (I19), or an explicit `resync`; ephemeral stream chunks and presence; and
 * prompts or cancels sent by the person, each checked against the token's role at that moment.
 */
export class ClientSession extends SocketSession implements ClientSink {
  readonly id = `c_${randomBytes(4).toString("hex")}`;
  readonly name: string;
  readonly role: string;
  private lastSent = 0;
  private readonly gate: FrameGate;

  constructor(
    gw: Gateway,
    private readonly host: WorkspaceHost,
    ws: Socket,
    private readonly principal: Principal,
  ) {
    super(gw, ws);
    this.name = principal.name;
    this.role = principal.role;
    this.gate = tokenGate(gw, "client", this);
  }

  /** Starts the stream: init (or the gap after `since`), then live events. */
  open(since: number | undefined): void {
    if (this.host.clients.size >= this.gw.limits.maxClientsPerWorkspace) {
      return closeWith(this.ws, 4429, `too many clients on workspace ${this.host.id}`);
    }
    const head = this.host.head;
    if (since === undefined) this.sendInit();
    else if (since > head) this.resync(`since=${since} is past the log's head ${head}`);
    else if (head - since > this.gw.limits.maxCatchUp) this.resync(`since=${since} is ${head - since} events behind (limit ${this.gw.limits.maxCatchUp})`);
    else this.lastSent = since;
    // Everything up to the head now; the host delivers the rest as it commits. Both happen in
    // this same tick, so nothing can slip between them.
    for (const event of this.host.ws.log.read({ from: this.lastSent + 1, to: head })) this.deliver(event.seq, JSON.stringify({ type: "event", event }));
    this.host.clients.add(this);
    this.gw.sessions.add(this);
    this.gw.metrics.inc("atelier_ws_connections_total", "WebSocket connections accepted", { role: "client" });
    this.host.broadcast({ type: "presence", action: "joined", client: this.identity(), clients: this.host.presence() });
  }

  private identity() {
    return { id: this.id, name: this.name, role: this.role };
  }

  private sendInit(): void {
    const init = initPayload(this.host, this.identity());
    this.lastSent = init.lastSeq;
    this.write(JSON.stringify(init));
  }

  private resync(reason: string): void {
    this.write(JSON.stringify({ type: "resync", reason }));
    this.sendInit();
  }

  deliver(seq: number, frame: string): void {
    if (this.ended || seq <= this.lastSent) return;
    this.lastSent = seq;
    this.write(frame);
  }

  send(frame: string): void {
    if (!this.ended) this.write(frame);
  }

  private write(frame: string): void {
    // A client that cannot keep up is cut off rather than buffered without bound; it reconnects
    // with since=<last seq it saw> and gets exactly the gap.
    if ((this.ws.raw?.bufferedAmount ?? 0) > this.gw.limits.maxBufferedBytes) {
      return this.end(4008, `too slow: reconnect with since=${this.lastSent}`);
    }
    this.ws.send(frame);
    this.gw.metrics.inc("atelier_ws_frames_out_total", "Frames sent on WebSockets", { role: "client" });
  }

  stillValid(): boolean {
    return this.gw.tokens.live(this.principal.tokenId);
  }

  /** Leaves the workspace and tells the others. */
  protected release(): void {
    if (this.host.clients.delete(this)) {
      this.host.broadcast({ type: "presence", action: "left", client: this.identity(), clients: this.host.presence() });
    }
  }

  async message(data: unknown): Promise<void> {
    if (this.ended) return;
    const frame = admitFrame(this.gate, ClientFrame, data);
    if (!frame) return;
    if (frame.type === "ping") return this.send(JSON.stringify({ type: "pong", ...(frame.id !== undefined ? { id: frame.id } : {}) }));
    const ref = frame.type === "prompt" ? frame.clientRequestId : frame.promptId;
    try {
      if (!can(this.principal.role, "write")) throw forbidden(`role ${this.principal.role} may not write`);
      if (frame.type === "cancel") {
        if (!this.host.ws.agents.get(frame.agent)) throw notFound(`no agent ${frame.agent}`);
        await this.host.ws.prompts.cancel(frame.agent, frame.promptId);
        return this.send(JSON.stringify({ type: "ack", ref: frame.promptId, promptId: frame.promptId, duplicate: false }));
      }
      const { promptId, duplicate } = await enqueuePrompt(this.host, frame.agent, {
        text: frame.text,
        author: this.principal.name,
        ...(frame.priority !== undefined ? { priority: frame.priority } : {}),
        ...(frame.clientRequestId !== undefined ? { clientRequestId: frame.clientRequestId } : {}),
        ...(frame.interrupt !== undefined ? { interrupt: frame.interrupt } : {}),
      });
      this.send(JSON.stringify({ type: "ack", ...(ref !== undefined ? { ref } : {}), promptId, duplicate }));
    } catch (error) {
      const e = toApiError(error);
      if (!e) throw error;
      this.send(errorFrame(e, ref));
    }
  }
}
