export { startMirror, MirrorDiverged, type Mirror, type MirrorOptions, type MirrorState, type MirrorStatus } from "./mirror.ts";
export { followWorkspace, restoreWorkspace, type FollowOptions } from "./follow.ts";
export { publishLine, type PublishLineOptions, type PublishTarget } from "./publish.ts";
export {
  DEFAULT_STREAM,
  SEGMENT_HEADER,
  SUBJECT_PATTERN,
  ensureStream,
  msgIdFor,
  readSubjectHead,
  streamConfig,
  subjectFor,
  type StreamOptions,
  type SubjectHead,
} from "./stream.ts";
export { backoffDelay, type BackoffOptions } from "./backoff.ts";
export { natsConnect, type Ack, type JetStreamConnect, type JetStreamSession } from "./port.ts";
export { MemoryJetStream, type StoredMessage } from "./memory-jetstream.ts";
export { connectNats, mirroredHead, natsUrl, type NatsConnection } from "./connect.ts";
