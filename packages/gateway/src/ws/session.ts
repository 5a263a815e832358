import type { Gateway, Session } from "../server/gateway.ts";
import { closeWith, type Socket } from "./socket.ts";

/**
 * What every socket session (client, runner, replay) shares: it ends once, from either side.
 * `end` is this side's decision and closes the socket with a code that says why; `closed` is the
 * socket going away. Either way `release` runs once and nothing more is sent.
 */
export abstract class SocketSession implements Session {
  protected ended = false;

  constructor(
    protected readonly gw: Gateway,
    protected readonly ws: Socket,
  ) {}

  abstract stillValid(): boolean;

  /** Gives back what the session holds (its place in the host, its runner connection, its timer). */
  protected abstract release(): void;

  end(code: number, reason: string): void {
    if (this.ended) return;
    this.closed();
    closeWith(this.ws, code, reason);
  }

  closed(): void {
    if (this.ended) return;
    this.ended = true;
    this.gw.sessions.delete(this);
    this.release();
  }
}
