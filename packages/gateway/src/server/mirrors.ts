import { connectNats, startMirror, type EventLog, type Mirror, type NatsConnection } from "@atelier/events";
import type { WorkspaceHost } from "./host.ts";

/** How long a stop waits for each mirror to publish its log up to the head (NATS may be down). */
const DRAIN_MS = 5_000;

/** `--nats`: every served workspace's log mirrored to JetStream over one shared connection. */
export class Mirrors {
  private readonly mirrors = new Map<string, { readonly mirror: Mirror; readonly log: EventLog }>();

  private constructor(private readonly connection: NatsConnection) {}

  static async connect(url: string): Promise<Mirrors> {
    return new Mirrors(await connectNats(url, "atelier gateway"));
  }

  attach(host: WorkspaceHost): void {
    this.mirrors.set(host.id, { mirror: startMirror(host.ws.log, { connection: this.connection, workspaceDir: host.dir }), log: host.ws.log });
  }

  /** Stops mirroring one workspace (it is being hibernated). */
  async detach(id: string): Promise<void> {
    const mirrored = this.mirrors.get(id);
    this.mirrors.delete(id);
    await mirrored?.mirror.stop().catch(() => undefined);
  }

  /**
   * The server is stopping: waits (at most DRAIN_MS) for each mirror to publish its log up to the
   * head, so that JetStream holds everything committed before the stop, then closes the connection.
   * A mirror that cannot (NATS down) catches up at the next start.
   */
  async stop(): Promise<void> {
    await Promise.all(
      [...this.mirrors.values()].map(async ({ mirror, log }) => {
        let timer: NodeJS.Timeout | undefined;
        const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, DRAIN_MS)));
        await Promise.race([mirror.mirrored(log.head()).catch(() => undefined), deadline]);
        clearTimeout(timer);
        await mirror.stop().catch(() => undefined);
      }),
    );
    await this.connection.close();
  }
}
