import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { readSubjectHead, type SubjectHead } from "./stream.ts";

export type { NatsConnection };

/** The NATS URL from `--nats <url>`, else ATELIER_NATS_URL; undefined means mirroring is off. */
export const natsUrl = (flag: string | undefined, env: Record<string, string | undefined> = process.env): string | undefined =>
  flag || env.ATELIER_NATS_URL || undefined;

/**
 * A connection for followers and tools: it reconnects on its own (without limit) so a long
 * `follow` rides out a server restart; the ordered consumer then resumes where it was.
 */
export const connectNats = (url: string, name: string): Promise<NatsConnection> =>
  connect({ servers: url.split(","), name, maxReconnectAttempts: -1 });

/** What JetStream holds for a workspace, for tools that only have a connection. */
export const mirroredHead = async (nc: NatsConnection, stream: string, workspace: string): Promise<SubjectHead> =>
  readSubjectHead(await jetstreamManager(nc), stream, workspace);
