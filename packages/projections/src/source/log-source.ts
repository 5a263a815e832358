import {
  type Envelope,
  type EventCatalogue,
  logDir,
  nodeStorage,
  parseLine,
  readLines,
  scanLog,
} from "@atelier/events";

/** What rebuild and catch-up read: committed events by seq range. An EventLog is one. */
export interface LogSource {
  head(): number;
  read(range: { from?: number; to?: number }): Iterable<Envelope>;
}

/** A source that also reports commits as they happen (EventLog.onCommit). */
export interface LiveLogSource extends LogSource {
  onCommit(listener: (events: readonly Envelope[]) => void): () => void;
}

/**
 * The log of a workspace folder, read without taking its writer lock (a server may be appending):
 * verifies the chain up to the current end, then reads that prefix with payloads upcast.
 */
export const readWorkspaceLog = (workspaceDir: string, catalogue: EventCatalogue): LogSource => {
  const storage = nodeStorage();
  const { segments, head } = scanLog(storage, logDir(workspaceDir));
  const upcast = (event: Envelope): Envelope => {
    if (!catalogue.has(event.type)) return event;
    const version = catalogue.definition(event.type).version;
    if ((event.v ?? 1) >= version) return event;
    return { ...event, v: version, payload: catalogue.upcast(event.type, event.v, event.payload) };
  };
  return {
    head: () => head,
    *read({ from = 1, to = head }) {
      for (const { line } of readLines(storage, segments, from, Math.min(to, head))) yield upcast(parseLine(line));
    },
  };
};
