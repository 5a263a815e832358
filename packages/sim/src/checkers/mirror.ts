import type { MemoryJetStream } from "@atelier/events";
import { WORKSPACE } from "../world/config.ts";
import type { Host } from "../world/host.ts";
import type { Probes } from "./probes.ts";
import { fail } from "./violation.ts";

/**
 * I5 and I6 over the simulated JetStream: the workspace's subject is always a prefix of the log
 * (message i is the log's line i, byte for byte) and no message id appears twice. Incremental:
 * only messages added since the last look are compared, unless the stream lost its tail (F17).
 */
export class MirrorChecker {
  private verified = 0;
  private lostTail = false;

  constructor(
    private readonly jetstream: MemoryJetStream,
    private readonly probes: Probes,
  ) {}

  check(host: Host): void {
    const messages = this.jetstream.messagesOf(WORKSPACE);
    if (messages.length < this.verified) {
      this.verified = messages.length;
      this.lostTail = true;
    }
    const ids = new Set<string>();
    for (const m of messages) {
      if (ids.has(m.msgId)) fail("I6", `message id ${m.msgId} stored twice`);
      ids.add(m.msgId);
    }
    for (let i = this.verified; i < messages.length; i++) {
      const seq = i + 1;
      const line = [...host.ws.log.readRaw({ from: seq, to: seq })][0]?.line;
      if (line === undefined) {
        if (seq <= host.ws.log.head()) fail("I5", `cannot read log line ${seq}`);
        return fail("I5", `JetStream holds seq ${seq}, past the log head ${host.ws.log.head()}`);
      }
      if (messages[i]!.line !== line) fail("I5", `JetStream message ${seq} differs from the log's line ${seq}`);
      if (this.lostTail) this.probes.reach("mirror republished after JetStream lost its tail");
    }
    this.verified = messages.length;
  }

  /** Whether JetStream holds the whole log (I5 at quiescence). */
  caughtUp(host: Host): boolean {
    return this.jetstream.messagesOf(WORKSPACE).length === host.ws.log.head();
  }
}
