import { replay, type WorldState } from "@atelier/actors";
import type { Host } from "../world/host.ts";
import type { SimObjectStore } from "../world/object-store.ts";
import type { Probes } from "./probes.ts";
import { fail } from "./violation.ts";
import { firstDifference } from "./state.ts";

/** What may follow `workspace.hibernated`: a wake (a prompt asks to resume, or the resume request itself), or the end. */
const LEAVES_HIBERNATION = new Set(["prompt.enqueued", "workspace.resume_requested", "workspace.terminate_requested"]);

interface SnapshotFile {
  readonly hash: string;
  readonly world: WorldState;
}

/**
 * I16 at each `workspace.resumed`: the archived snapshot it names belongs to this log (its hash is
 * the log's at its seq, so the bytes before hibernation are intact) and equals the log's prefix
 * replayed, byte for byte. Events accepted during hibernation are after it in the log, never lost
 * (I2 covers their durability). And at each `workspace.hibernated`: the archive ends there, so only
 * a wake may follow it (a prompt, which asks to resume, or the resume request itself), or a
 * termination request. I22: nothing at all follows `workspace.terminated`.
 */
export class HibernationChecker {
  private checkedThrough = 0;
  private previous: string | undefined;

  constructor(
    private readonly store: SimObjectStore,
    private readonly probes: Probes,
  ) {}

  check(host: Host): void {
    const head = host.ws.log.head();
    if (head <= this.checkedThrough) return;
    for (const env of host.ws.log.read({ from: this.checkedThrough + 1, to: head })) {
      const previous = this.previous;
      this.previous = env.type;
      if (previous === "workspace.hibernated" && !LEAVES_HIBERNATION.has(env.type)) fail("I16", `seq ${env.seq}: ${env.type} follows workspace.hibernated, where only a wake or the end may`);
      if (previous === "workspace.terminated") fail("I22", `seq ${env.seq}: ${env.type} follows workspace.terminated, which is final`);
      if (env.type !== "workspace.resumed") continue;
      const ref = (env.payload as { snapshotRef: string }).snapshotRef;
      const bytes = this.store.objects.get(ref) ?? fail("I16", `seq ${env.seq} resumed from ${ref}, which the object store does not hold`);
      const file = JSON.parse(new TextDecoder().decode(bytes)) as SnapshotFile;
      const at = [...host.ws.log.read({ from: file.world.seq, to: file.world.seq })][0];
      if (file.world.seq > 0 && at?.hash !== file.hash) fail("I16", `snapshot ${ref} was cut from a log that is not this one at seq ${file.world.seq}`);
      const replayed = JSON.stringify(replay(host.ws.log.read({ from: 1, to: file.world.seq })));
      const stored = JSON.stringify(file.world);
      if (replayed !== stored) fail("I16", `snapshot ${ref} differs from the log replayed to its seq: ${firstDifference(replayed, stored)}`);
      this.probes.reach("hibernated and resumed");
    }
    this.checkedThrough = head;
  }
}
