import { randomId, type Envelope, type Random } from "@atelier/events";
import { DEFAULT_CHANNEL_TTL_MS, DURABLE_CHANNEL_TTL_MS, entities, type PayloadFor } from "../machines/index.ts";
import type { Engine } from "../runtime/engine.ts";

export interface BusMessage {
  readonly seq: number;
  readonly channel: string;
  readonly messageId: string;
  readonly sender: string;
  readonly body: unknown;
  readonly at: number;
  readonly ttlMs: number;
}

export type Unsubscribe = () => void;

const toMessage = (env: Envelope): BusMessage => {
  const p = env.payload as PayloadFor<"bus.published">;
  return { seq: env.seq, channel: p.channel, messageId: p.messageId, sender: p.sender, body: p.body, at: p.at, ttlMs: p.ttlMs };
};

/**
 * The in-process bus of 001 and 000 §3.6. Durable channels (state, file_conflict, task_broadcast
 * and any other name) go through the log and reach subscribers only once durable, in seq order;
 * a subscriber can resume from a seq; expired messages are never delivered. Ephemeral streams
 * (token chunks, progress, heartbeats) fan out in memory and are never written.
 */
export class Bus {
  private readonly channels = new Map<string, Set<(m: BusMessage) => void>>();
  private readonly streams = new Map<string, Set<(payload: unknown) => void>>();

  constructor(
    private readonly engine: Engine,
    private readonly random: Random,
  ) {
    // The log's own commit hook runs synchronously as the group becomes durable: the shortest
    // path from fsync to subscriber.
    engine.log.onCommit((envelopes) => {
      for (const env of envelopes) {
        if (env.type !== "bus.published") continue;
        const subs = this.channels.get((env.payload as { channel: string }).channel);
        if (!subs || subs.size === 0) continue;
        const message = toMessage(env);
        if (this.expired(message)) continue;
        for (const deliver of [...subs]) deliver(message);
      }
    });
  }

  /** 001's TTL for a channel (5 minutes for channels it does not name). */
  static ttlOf(channel: string): number {
    return (DURABLE_CHANNEL_TTL_MS as Record<string, number>)[channel] ?? DEFAULT_CHANNEL_TTL_MS;
  }

  private expired(m: BusMessage): boolean {
    return this.engine.now >= m.at + m.ttlMs;
  }

  /** Publishes durably; resolves with the message once it is in the log. */
  async publish(channel: string, body: unknown, options: { sender: string; ttlMs?: number }): Promise<BusMessage> {
    const { envelopes } = await this.engine.run((tx) => {
      const payload = {
        at: tx.now,
        channel,
        messageId: randomId(this.random, "msg_"),
        sender: options.sender,
        body,
        ttlMs: options.ttlMs ?? Bus.ttlOf(channel),
      };
      tx.record(entities.channel(channel), { type: "bus.published", payload }, options.sender);
    });
    return toMessage(envelopes[0]!);
  }

  /**
   * Delivers each unexpired message of `channel`: first those already logged with seq ≥ `from`
   * (when given), then live ones. Each message is delivered once per subscription, in seq order.
   */
  subscribe(channel: string, handler: (m: BusMessage) => void, options: { from?: number } = {}): Unsubscribe {
    let last = 0;
    const deliver = (m: BusMessage) => {
      if (m.seq <= last) return;
      last = m.seq;
      handler(m);
    };
    if (options.from !== undefined) {
      for (const env of this.engine.log.read({ from: options.from })) {
        if (env.type !== "bus.published" || env.entity !== entities.channel(channel)) continue;
        const m = toMessage(env);
        if (!this.expired(m)) deliver(m);
      }
    }
    const subs = this.channels.get(channel) ?? new Set();
    subs.add(deliver);
    this.channels.set(channel, subs);
    return () => subs.delete(deliver);
  }

  /** Sends on an ephemeral stream: delivered now to current listeners, never persisted. */
  emit(stream: string, payload: unknown): void {
    const subs = this.streams.get(stream);
    if (subs) for (const fn of [...subs]) fn(payload);
  }

  /** Listens to an ephemeral stream. */
  on(stream: string, listener: (payload: unknown) => void): Unsubscribe {
    const subs = this.streams.get(stream) ?? new Set();
    subs.add(listener);
    this.streams.set(stream, subs);
    return () => subs.delete(listener);
  }
}
