/**
 * Where a workspace's log lives in JetStream: one stream per deployment, one subject per
 * workspace, one message per event whose `Nats-Msg-Id` is `<ws>:<seq>`. The definition here is
 * the one nats/streams/*.json spell out for operators (a test keeps them equal).
 */
import { JetStreamApiCodes, JetStreamApiError, type JetStreamManager, type StreamConfig } from "@nats-io/jetstream";
import { parseLine } from "../log/reader.ts";

export const DEFAULT_STREAM = "ATELIER";
export const SUBJECT_PATTERN = "atelier.ws.*.events";

/** Set on the message of an event that starts a log segment, so a restore splits files alike. */
export const SEGMENT_HEADER = "Atelier-Segment";

/** Two minutes, the JetStream default: retries inside it are acknowledged as duplicates. */
export const DEFAULT_DUPLICATE_WINDOW_MS = 120_000;

export interface StreamOptions {
  /** Default `ATELIER`. */
  readonly name?: string;
  /** 1 on a single node, 3 on the cluster (default 1). */
  readonly replicas?: number;
  /** How long JetStream remembers a `Nats-Msg-Id` (default 2 minutes). */
  readonly duplicateWindowMs?: number;
}

/** Subject tokens may not hold `.`, `*`, `>` or whitespace; a workspace id that does is refused. */
const SUBJECT_TOKEN = /^[^.*>\s]+$/;

export const subjectFor = (workspace: string): string => {
  if (!SUBJECT_TOKEN.test(workspace)) throw new Error(`workspace id "${workspace}" cannot be a NATS subject token`);
  return `atelier.ws.${workspace}.events`;
};

export const msgIdFor = (workspace: string, seq: number): string => `${workspace}:${seq}`;

/**
 * The stream definition. No limits and `discard: new`: a full store refuses publishes (the mirror
 * lags and says so) rather than silently dropping the oldest events. Deletes are denied so the
 * shared copy cannot grow holes; purge stays allowed for removing a whole workspace.
 */
export const streamConfig = (options: StreamOptions = {}): Partial<StreamConfig> & { name: string } => ({
  name: options.name ?? DEFAULT_STREAM,
  description: "Atelier event logs: one subject per workspace, one message per event",
  subjects: [SUBJECT_PATTERN],
  retention: "limits",
  storage: "file",
  num_replicas: options.replicas ?? 1,
  discard: "new",
  max_consumers: -1,
  max_msgs: -1,
  max_bytes: -1,
  max_age: 0,
  max_msgs_per_subject: -1,
  max_msg_size: -1,
  duplicate_window: (options.duplicateWindowMs ?? DEFAULT_DUPLICATE_WINDOW_MS) * 1_000_000,
  deny_delete: true,
  deny_purge: false,
  allow_rollup_hdrs: false,
});

const isNotFound = (error: unknown): boolean => error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound;

/**
 * Creates the stream when it is missing, and checks that an existing one captures the workspace
 * subjects. Concurrent callers race harmlessly: an identical add is accepted by the server.
 */
export const ensureStream = async (jsm: JetStreamManager, options: StreamOptions = {}): Promise<void> => {
  const config = streamConfig(options);
  try {
    const info = await jsm.streams.info(config.name);
    if (!info.config.subjects?.includes(SUBJECT_PATTERN)) {
      throw new Error(`stream ${config.name} exists but does not capture ${SUBJECT_PATTERN} (it has ${info.config.subjects?.join(", ")})`);
    }
  } catch (error) {
    if (!isNotFound(error)) throw error;
    await jsm.streams.add(config);
  }
};

/** The last event JetStream holds for a workspace, and how many messages its subject has. */
export interface SubjectHead {
  /** The event's seq (0 when the subject is empty). */
  readonly seq: number;
  /** Its stream sequence: what the next publish expects as the last subject sequence. */
  readonly streamSeq: number;
  /** Its stored line ("" when empty). */
  readonly line: string;
  /** Messages on the subject: equal to `seq` exactly when there is no gap and no copy. */
  readonly count: number;
}

const decoder = new TextDecoder();

export const readSubjectHead = async (jsm: JetStreamManager, stream: string, workspace: string): Promise<SubjectHead> => {
  const subject = subjectFor(workspace);
  const last = await jsm.streams.getMessage(stream, { last_by_subj: subject });
  if (!last) return { seq: 0, streamSeq: 0, line: "", count: 0 };
  const info = await jsm.streams.info(stream, { subjects_filter: subject });
  const line = decoder.decode(last.data);
  return { seq: parseLine(line).seq, streamSeq: last.seq, line, count: info.state.subjects?.[subject] ?? 0 };
};
