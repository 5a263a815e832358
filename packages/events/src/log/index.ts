export * from "./log.ts";
export { scanLog, type ScanResult, type TornTail, type VerifiedLog, type VerifiedSegment, type WrittenSegment } from "./verify.ts";
export { parseLine, readLines, type RawLine } from "./reader.ts";
export { segmentName, parseSegmentName, logDir, type Segment } from "./segments.ts";
export { encodeEnvelope, chainHash, lineHashMatches, lineBody } from "./encode.ts";
