import type { Envelope, Timer } from "@atelier/events";
import type { Principal } from "../auth/tokens.ts";
import { ReplayFrame } from "../protocol/client.ts";
import type { Gateway } from "../server/gateway.ts";
import type { WorkspaceHost } from "../server/host.ts";
import { SocketSession } from "./session.ts";
import { admitFrame, tokenGate, type FrameGate, type Socket } from "./socket.ts";

/** A quiet stretch of the log never holds the viewer longer than this (real time). */
const MAX_PAUSE_MS = 1000;
/** Events sent back to back before yielding to the event loop. */
const BURST = 256;

/**
 * The replay viewer's stream (`mode=replay&from=<seq>&speed=<x>`): the log from `from` to the
 * head as it was when the socket opened, spaced by the events' own timestamps divided by the
 * speed. The viewer can pause, resume and change speed; `replay.end` marks the end.
 */
export class ReplaySession extends SocketSession {
  private events: Iterator<Envelope>;
  private pending: Envelope | undefined;
  private previousTs: number | undefined;
  private timer: Timer | undefined;
  private paused = false;
  private readonly to: number;
  private readonly gate: FrameGate;

  constructor(
    gw: Gateway,
    host: WorkspaceHost,
    ws: Socket,
    private readonly principal: Principal,
    private readonly from: number,
    private speed: number,
  ) {
    super(gw, ws);
    this.to = host.head;
    this.events = host.ws.log.read({ from, to: this.to })[Symbol.iterator]();
    this.gate = tokenGate(gw, "replay", this);
  }

  open(): void {
    this.gw.sessions.add(this);
    this.gw.metrics.inc("atelier_ws_connections_total", "WebSocket connections accepted", { role: "replay" });
    this.ws.send(JSON.stringify({ type: "replay.start", from: this.from, to: this.to, speed: this.speed }));
    this.pump();
  }

  private pump(): void {
    this.timer = undefined;
    for (let sent = 0; !this.ended && !this.paused; sent++) {
      const next = this.pending ?? this.events.next().value;
      this.pending = undefined;
      if (!next) {
        this.ws.send(JSON.stringify({ type: "replay.end", lastSeq: this.to }));
        return;
      }
      const ts = Date.parse(next.ts);
      const wait = this.previousTs === undefined ? 0 : Math.min(MAX_PAUSE_MS, (ts - this.previousTs) / this.speed);
      // Yield when the events' own spacing says so, after a burst, or while the socket is backed up.
      const backedUp = (this.ws.raw?.bufferedAmount ?? 0) > this.gw.limits.maxBufferedBytes / 2;
      if (wait >= 1 || sent >= BURST || backedUp) {
        this.pending = next;
        this.timer = this.gw.clock.setTimer(backedUp ? 50 : Math.max(0, wait), () => {
          this.previousTs = this.pending ? Date.parse(this.pending.ts) : this.previousTs;
          this.sendEvent(this.pending);
        });
        return;
      }
      this.previousTs = ts;
      this.ws.send(JSON.stringify({ type: "event", event: next }));
    }
  }

  private sendEvent(event: Envelope | undefined): void {
    this.pending = undefined;
    if (event && !this.ended) this.ws.send(JSON.stringify({ type: "event", event }));
    this.pump();
  }

  message(data: unknown): void {
    if (this.ended) return;
    const frame = admitFrame(this.gate, ReplayFrame, data);
    if (!frame) return;
    if (frame.type === "ping") return this.ws.send(JSON.stringify({ type: "pong", ...(frame.id !== undefined ? { id: frame.id } : {}) }));
    if (frame.type === "pause") {
      this.paused = true;
      this.timer?.cancel();
      this.timer = undefined;
      return;
    }
    if (frame.type === "speed") this.speed = frame.speed;
    if (this.paused || frame.type === "speed") {
      this.paused = false;
      this.timer?.cancel();
      this.pump();
    }
  }

  stillValid(): boolean {
    return this.gw.tokens.live(this.principal.tokenId);
  }

  protected release(): void {
    this.timer?.cancel();
  }
}
