import { deadlinesOf, foldInto, worldOf, type ActorSnapshot } from "@atelier/actors";
import type { Host } from "../world/host.ts";
import { fail } from "./violation.ts";

/**
 * I15 and the timer half of I16/F22, incrementally: the log folded through the pure machines
 * (effects off) must equal the live actors byte for byte at the live seq, and the armed timers
 * must be exactly those the committed snapshots ask for, with their deadlines (none while hibernated or terminated).
 */
export class ReplayChecker {
  private readonly actors = new Map<string, ActorSnapshot>();
  private seq = 0;

  check(host: Host): void {
    const live = host.ws.state();
    if (live.seq < this.seq) fail("I15", `live seq ${live.seq} went back behind ${this.seq}`);
    if (live.seq > this.seq) this.seq = foldInto(this.actors, host.ws.log.read({ from: this.seq + 1, to: live.seq }), this.seq);
    const replayed = JSON.stringify(worldOf(this.seq, this.actors));
    const actual = JSON.stringify(live);
    if (replayed !== actual) fail("I15", `replaying the log to seq ${live.seq} differs from the live actors: ${firstDifference(replayed, actual)}`);
    // A hibernated or terminated workspace arms nothing: a hibernated one's deadlines are re-armed at the wake (I16).
    const stopped = ["hibernated", "terminated"].includes(host.ws.status());
    const wanted = stopped ? [] : deadlinesOf(live).map((t) => t.key).sort();
    const armed = host.ws.timers().map((t) => t.key).sort();
    if (wanted.join(" ") !== armed.join(" ")) fail("I16", `armed timers [${armed.join(", ")}] differ from the deadlines the state holds [${wanted.join(", ")}]`);
  }
}

export const firstDifference = (a: string, b: string): string => {
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  return `at char ${i}: …${a.slice(Math.max(0, i - 60), i + 60)}… vs …${b.slice(Math.max(0, i - 60), i + 60)}…`;
};
