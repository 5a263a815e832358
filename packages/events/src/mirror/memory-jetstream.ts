/**
 * JetStream in memory, for the simulator and deterministic tests of the mirror. It keeps the
 * rules the mirror relies on, in nats-server's order: duplicate ids inside the window are acked
 * as duplicates (before any expectation is checked), then the expected last subject sequence, then
 * the store. Time is the injected clock's. Faults (F15–F17): outages that drop every connection,
 * acks lost after the store, publishes refused while later ones pass, and a store that loses its
 * tail when it restarts.
 */
import type { Clock } from "../services/clock.ts";
import type { JetStreamConnect, JetStreamSession } from "./port.ts";
import { DEFAULT_STREAM, msgIdFor, subjectFor, type StreamOptions, type SubjectHead } from "./stream.ts";

export interface StoredMessage {
  readonly seq: number;
  readonly subject: string;
  readonly line: string;
  readonly msgId: string;
  readonly segmentStart: boolean;
}

interface MemoryStream {
  readonly windowMs: number;
  readonly messages: StoredMessage[];
  /** Message id → stream sequence and when it was stored. */
  readonly ids: Map<string, { seq: number; at: number }>;
  /** Subject → stream sequence of its last message. */
  readonly lastOf: Map<string, number>;
  lastSeq: number;
}

export class MemoryJetStream {
  private readonly streams = new Map<string, MemoryStream>();
  private readonly drops = new Set<(reason: string) => void>();
  private up = true;
  private epoch = 0;
  private acksToLose = 0;
  private publishesToRefuse = 0;

  constructor(private readonly clock: Clock) {}

  /** Opens a session, as `MirrorOptions.jetstream`; refused while the server is down. */
  readonly connect: JetStreamConnect = async () => {
    if (!this.up) throw new Error("connection refused");
    return this.session(this.epoch);
  };

  /** The server goes away: every session is dropped and refuses further calls. */
  crash(): void {
    this.up = false;
    this.epoch++;
    for (const drop of [...this.drops]) drop("disconnect");
    this.drops.clear();
  }

  /** The server comes back, its stores having lost their last `loseTail` messages (F17). */
  restart(loseTail = 0): void {
    for (const stream of this.streams.values()) {
      const kept = stream.messages.length - Math.min(loseTail, stream.messages.length);
      stream.messages.length = kept;
      stream.lastSeq = stream.messages.at(-1)?.seq ?? 0;
      for (const [id, entry] of stream.ids) if (entry.seq > stream.lastSeq) stream.ids.delete(id);
      stream.lastOf.clear();
      for (const m of stream.messages) stream.lastOf.set(m.subject, m.seq);
    }
    this.up = true;
  }

  /** The next `n` publishes are stored but their acks never arrive (the client times out; F15). */
  loseAcks(n: number): void {
    this.acksToLose += n;
  }

  /** The next `n` publishes are refused unstored while later ones pass (a leader change). */
  refusePublishes(n: number): void {
    this.publishesToRefuse += n;
  }

  /** Forgets pending lost acks and refusals (the liveness phase of a simulation). */
  clearFaults(): void {
    this.acksToLose = 0;
    this.publishesToRefuse = 0;
  }

  /** Every message of a workspace, in stream order. */
  messagesOf(workspace: string, stream = DEFAULT_STREAM): StoredMessage[] {
    const subject = subjectFor(workspace);
    return (this.streams.get(stream)?.messages ?? []).filter((m) => m.subject === subject);
  }

  private session(epoch: number): JetStreamSession {
    const live = (): void => {
      if (epoch !== this.epoch) throw new Error("connection closed");
    };
    const streamOf = (name: string): MemoryStream => {
      const stream = this.streams.get(name);
      if (!stream) throw new Error(`stream not found: ${name}`);
      return stream;
    };
    // Replies come back on a later turn, as they do over a socket.
    const reply = <T>(fn: () => T): Promise<T> => Promise.resolve().then(() => (live(), fn()));
    return {
      ensureStream: (options: StreamOptions) =>
        reply(() => {
          const name = options.name ?? DEFAULT_STREAM;
          if (!this.streams.has(name)) this.streams.set(name, { windowMs: options.duplicateWindowMs ?? 120_000, messages: [], ids: new Map(), lastOf: new Map(), lastSeq: 0 });
        }),
      subjectHead: (stream, workspace) =>
        reply((): SubjectHead => {
          const on = streamOf(stream).messages.filter((m) => m.subject === subjectFor(workspace));
          const last = on.at(-1);
          return last ? { seq: Number(/^\{"seq":(\d+)/.exec(last.line)?.[1]), streamSeq: last.seq, line: last.line, count: on.length } : { seq: 0, streamSeq: 0, line: "", count: 0 };
        }),
      storedAt: (stream, streamSeq) =>
        reply(() => {
          const found = streamOf(stream).messages.find((m) => m.seq === streamSeq);
          return found ? { subject: found.subject, line: found.line } : undefined;
        }),
      publish: (streamName, workspace, seq, line, options) =>
        reply(() => {
          if (this.publishesToRefuse > 0) {
            this.publishesToRefuse--;
            throw new Error("no responders (injected)");
          }
          const stream = streamOf(streamName);
          const subject = subjectFor(workspace);
          const msgId = msgIdFor(workspace, seq);
          const known = stream.ids.get(msgId);
          if (known && this.clock.now() - known.at < stream.windowMs) return { seq: known.seq, duplicate: true };
          const last = stream.lastOf.get(subject) ?? 0;
          if (options.expectLastSubjectSequence !== undefined && options.expectLastSubjectSequence !== last) throw new Error(`wrong last sequence: ${last}`);
          stream.lastSeq++;
          stream.messages.push({ seq: stream.lastSeq, subject, line, msgId, segmentStart: options.segmentStart ?? false });
          stream.ids.set(msgId, { seq: stream.lastSeq, at: this.clock.now() });
          stream.lastOf.set(subject, stream.lastSeq);
          return { seq: stream.lastSeq, duplicate: false };
        }).then((ack) => {
          if (this.acksToLose === 0) return ack;
          this.acksToLose--;
          return new Promise<never>((_, reject) => this.clock.setTimer(options.timeoutMs ?? 5000, () => reject(new Error("timeout"))));
        }),
      onDrop: (listener) => {
        this.drops.add(listener);
        return () => this.drops.delete(listener);
      },
      isClosed: () => epoch !== this.epoch,
      close: async () => undefined,
    };
  }
}
