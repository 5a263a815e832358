import type { JetStreamClient, JetStreamPublishOptions, PubAck } from "@nats-io/jetstream";
import { headers } from "@nats-io/transport-node";
import { msgIdFor, SEGMENT_HEADER, subjectFor } from "./stream.ts";

/** Where one workspace's events go. */
export interface PublishTarget {
  readonly js: JetStreamClient;
  readonly stream: string;
  readonly workspace: string;
}

export interface PublishLineOptions {
  /**
   * The stream sequence of the subject's last message, when known: the server refuses the publish
   * if anything else landed on the subject since (a second writer, or a regressed store).
   */
  readonly expectLastSubjectSequence?: number;
  /** The event opens a log segment (see SEGMENT_HEADER). */
  readonly segmentStart?: boolean;
  readonly timeoutMs?: number;
}

/**
 * Publishes one stored log line (without its newline), byte for byte, as event `seq`. The
 * message id makes a retry after a lost ack a duplicate (`PubAck.duplicate`) rather than a copy,
 * for as long as the stream's duplicate window remembers it.
 */
export const publishLine = (target: PublishTarget, seq: number, line: string, options: PublishLineOptions = {}): Promise<PubAck> => {
  const publish: Partial<JetStreamPublishOptions> = {
    msgID: msgIdFor(target.workspace, seq),
    expect: {
      streamName: target.stream,
      ...(options.expectLastSubjectSequence !== undefined ? { lastSubjectSequence: options.expectLastSubjectSequence } : {}),
    },
    ...(options.timeoutMs !== undefined ? { timeout: options.timeoutMs } : {}),
  };
  if (options.segmentStart) {
    const h = headers();
    h.set(SEGMENT_HEADER, "start");
    publish.headers = h;
  }
  return target.js.publish(subjectFor(target.workspace), line, publish);
};
