/**
 * Follow and restore: read a workspace's events back out of JetStream into a local folder, with
 * an ordered consumer on the workspace's subject, checking the hash chain line by line.
 */
import { jetstream, jetstreamManager, type JetStreamManager, type MsgRequest } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { parseLine } from "../log/reader.ts";
import { logDir, parseSegmentName } from "../log/segments.ts";
import { nodeStorage } from "../storage/node.ts";
import type { Storage } from "../storage/storage.ts";
import { LocalCopy } from "./local-copy.ts";
import { DEFAULT_STREAM, SEGMENT_HEADER, subjectFor } from "./stream.ts";

export interface FollowOptions {
  readonly connection: NatsConnection;
  readonly workspace: string;
  /** The workspace folder of the local copy (its log goes to `<dir>/log/`). */
  readonly dir: string;
  /** Default `ATELIER`. */
  readonly stream?: string;
  readonly storage?: Storage;
  /** Stop once the copy holds what JetStream held when following started. */
  readonly once?: boolean;
  /** Stops following (the copy keeps everything written so far). */
  readonly signal?: AbortSignal;
  /** Called with the copy's head each time a batch of events is durable. */
  readonly onProgress?: (head: number) => void;
}

/** Events made durable together while catching up: one fsync per batch. */
const FLUSH_EVERY = 1024;

const decoder = new TextDecoder();
const eventSeq = (data: Uint8Array): number => parseLine(decoder.decode(data)).seq;

/**
 * The stream sequence of the subject's first message whose event seq is ≥ `seq`, by binary search
 * over "next message on the subject at or after stream sequence s" (event seqs rise with s).
 */
const streamSeqOf = async (jsm: JetStreamManager, stream: string, subject: string, seq: number, lastStreamSeq: number): Promise<number> => {
  let lo = 1;
  let hi = lastStreamSeq;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    // next_by_subj is in the 2.9 server's MSG.GET request; the client types only declare it for direct gets.
    const found = await jsm.streams.getMessage(stream, { seq: mid, next_by_subj: subject } as unknown as MsgRequest);
    if (found && eventSeq(found.data) >= seq) hi = mid;
    else lo = (found?.seq ?? mid) + 1;
  }
  return lo;
};

/**
 * Copies a workspace's events from JetStream into `dir`, resuming after what the copy holds (whose
 * last event must match JetStream's), then keeps following until stopped, or until caught up with
 * `once`. Returns the copy's head.
 */
export const followWorkspace = async (options: FollowOptions): Promise<number> => {
  const stream = options.stream ?? DEFAULT_STREAM;
  const subject = subjectFor(options.workspace);
  const jsm = await jetstreamManager(options.connection);
  const copy = await LocalCopy.open(options.storage ?? nodeStorage(), options.dir, options.workspace, `atelier follow pid ${process.pid}`);
  try {
    const last = await jsm.streams.getMessage(stream, { last_by_subj: subject });
    const lastSeq = last ? eventSeq(last.data) : 0;
    if ((options.once && lastSeq <= copy.head) || options.signal?.aborted) return copy.head;
    // Start at the copy's own last event so that `add` checks JetStream still agrees with it.
    const from = Math.max(1, copy.head);
    const start = !last ? 1 : from > lastSeq ? last.seq + 1 : await streamSeqOf(jsm, stream, subject, from, last.seq);
    const consumer = await jetstream(options.connection).consumers.get(stream, { filter_subjects: subject, opt_start_seq: start });
    const messages = await consumer.consume({ max_messages: FLUSH_EVERY });
    const abort = (): void => void messages.close();
    options.signal?.addEventListener("abort", abort);
    try {
      let unflushed = 0;
      for await (const m of messages) {
        copy.add(m.string(), m.headers?.get(SEGMENT_HEADER) === "start");
        if (++unflushed >= FLUSH_EVERY || m.info.pending === 0) {
          await copy.flush();
          unflushed = 0;
          options.onProgress?.(copy.head);
        }
        if (options.once && copy.head >= lastSeq) break;
      }
    } finally {
      options.signal?.removeEventListener("abort", abort);
      await messages.close();
    }
    return copy.head;
  } finally {
    await copy.close();
  }
};

/** Rebuilds a workspace's log in an empty folder from JetStream; returns its head. */
export const restoreWorkspace = async (options: Omit<FollowOptions, "once">): Promise<number> => {
  const storage = options.storage ?? nodeStorage();
  if (storage.list(logDir(options.dir)).some((name) => parseSegmentName(name) !== undefined)) {
    throw new Error(`${options.dir} already holds a log: restore writes into an empty folder`);
  }
  const head = await followWorkspace({ ...options, storage, once: true });
  if (head === 0) throw new Error(`JetStream holds no events of workspace ${options.workspace} in stream ${options.stream ?? DEFAULT_STREAM}`);
  return head;
};
