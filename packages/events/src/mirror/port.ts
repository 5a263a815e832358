/**
 * What the mirror needs from JetStream, as a port: nats.js against a real server in production,
 * MemoryJetStream (memory-jetstream.ts) in the simulator and in deterministic tests.
 */
import { jetstream, jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { publishLine, type PublishLineOptions } from "./publish.ts";
import { ensureStream, readSubjectHead, type StreamOptions, type SubjectHead } from "./stream.ts";

/** A publish acknowledgement: the stream sequence, and whether the id was already known. */
export interface Ack {
  readonly seq: number;
  readonly duplicate: boolean;
}

/** One connection's worth of JetStream. */
export interface JetStreamSession {
  ensureStream(options: StreamOptions): Promise<void>;
  subjectHead(stream: string, workspace: string): Promise<SubjectHead>;
  /** Publishes a stored line as event `seq` of `workspace` (see publishLine). */
  publish(stream: string, workspace: string, seq: number, line: string, options: PublishLineOptions): Promise<Ack>;
  /** The subject and body of the message at a stream sequence, if it is there. */
  storedAt(stream: string, streamSeq: number): Promise<{ subject: string; line: string } | undefined>;
  /** Calls `listener` once if the connection drops; returns a function that stops listening. */
  onDrop(listener: (reason: string) => void): () => void;
  /** Whether the connection is gone for good (the next session must connect again). */
  isClosed(): boolean;
  close(): Promise<void>;
}

/** Opens a session: called again after a failure ends the previous one. */
export type JetStreamConnect = () => Promise<JetStreamSession>;

const decoder = new TextDecoder();

const natsSession = (nc: NatsConnection, jsm: JetStreamManager, owned: boolean): JetStreamSession => {
  const js = jetstream(nc, jsm.getOptions());
  return {
    ensureStream: (options) => ensureStream(jsm, options),
    subjectHead: (stream, workspace) => readSubjectHead(jsm, stream, workspace),
    publish: (stream, workspace, seq, line, options) => publishLine({ js, stream, workspace }, seq, line, options),
    async storedAt(stream, streamSeq) {
      const stored = await jsm.streams.getMessage(stream, { seq: streamSeq });
      return stored ? { subject: stored.subject, line: decoder.decode(stored.data) } : undefined;
    },
    onDrop(listener) {
      const statuses = nc.status();
      void (async () => {
        try {
          for await (const status of statuses) {
            if (status.type === "disconnect" || status.type === "staleConnection" || status.type === "close") return listener(status.type);
          }
        } catch {
          // The iterator ends when we stop listening; nothing to report.
        }
      })();
      return () => (statuses as { stop?(): void }).stop?.();
    },
    isClosed: () => nc.isClosed(),
    close: async () => {
      if (owned) await nc.close();
    },
  };
};

/**
 * Sessions over nats.js. Given a URL, each session owns a connection that does not reconnect by
 * itself (the mirror's backoff decides when to try again). Given a connection, sessions share it
 * and it keeps its own reconnect policy.
 */
export const natsConnect = (target: { url: string } | { connection: NatsConnection }, timeoutMs: number, name: string): JetStreamConnect => {
  const options = { timeout: timeoutMs };
  if ("connection" in target) return async () => natsSession(target.connection, await jetstreamManager(target.connection, options), false);
  return async () => {
    const nc = await connect({ servers: target.url.split(","), reconnect: false, timeout: timeoutMs, name });
    try {
      return natsSession(nc, await jetstreamManager(nc, options), true);
    } catch (error) {
      await nc.close();
      throw error;
    }
  };
};
