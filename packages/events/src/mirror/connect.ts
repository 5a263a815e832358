import { connect, type NatsConnection } from "@nats-io/transport-node";

/** The NATS URL from `--nats <url>`, else ATELIER_NATS_URL; undefined means mirroring is off. */
export const natsUrl = (flag: string | undefined, env: Record<string, string | undefined> = process.env): string | undefined =>
  flag || env.ATELIER_NATS_URL || undefined;

/**
 * A connection for followers and tools: it reconnects on its own (without limit) so a long
 * `follow` rides out a server restart; the ordered consumer then resumes where it was.
 */
export const connectNats = (url: string, name: string): Promise<NatsConnection> =>
  connect({ servers: url.split(","), name, maxReconnectAttempts: -1 });
