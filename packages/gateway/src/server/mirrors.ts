import { connectNats, startMirror, type Mirror, type NatsConnection } from "@atelier/events";
import type { WorkspaceHost } from "./host.ts";

/** `--nats`: every served workspace's log mirrored to JetStream over one shared connection. */
export class Mirrors {
  private readonly mirrors = new Map<string, Mirror>();

  private constructor(private readonly connection: NatsConnection) {}

  static async connect(url: string): Promise<Mirrors> {
    return new Mirrors(await connectNats(url, "atelier gateway"));
  }

  attach(host: WorkspaceHost): void {
    this.mirrors.set(host.id, startMirror(host.ws.log, { connection: this.connection, workspaceDir: host.dir }));
  }

  /** Stops mirroring one workspace (it is being hibernated). */
  async detach(id: string): Promise<void> {
    const mirror = this.mirrors.get(id);
    this.mirrors.delete(id);
    await mirror?.stop().catch(() => undefined);
  }

  /** Lets publishes in flight settle, then closes the connection. */
  async stop(): Promise<void> {
    await Promise.all([...this.mirrors.values()].map((m) => m.stop().catch(() => undefined)));
    await this.connection.close();
  }
}
