import { LogCorrupted, scanLog, logDir } from "@atelier/events";
import { DIR, WORKSPACE } from "../world/config.ts";
import type { Host } from "../world/host.ts";
import { rebuiltDump } from "../world/projection.ts";
import type { World } from "../world/world.ts";
import { HibernationChecker } from "./hibernation.ts";
import { MirrorChecker } from "./mirror.ts";
import { ReplayChecker, firstDifference } from "./state.ts";
import { fail } from "./violation.ts";

export { checkRecovery } from "./recovery.ts";

/** Whether the host's log still accepts appends (a failed log rejects even an empty one). */
const logAlive = (host: Host): Promise<boolean> => host.ws.log.append([]).then(
  () => true,
  () => false,
);

/**
 * Every invariant that can be judged while the world runs. `afterStep` runs after every scenario
 * step (and every second of the liveness phase); `atQuiescence` once everything has converged.
 */
export class Checkers {
  private readonly replay = new ReplayChecker();
  private readonly hibernation: HibernationChecker;
  readonly mirror: MirrorChecker;
  /** The host epoch whose reopened projection I7 last compared with a rebuild. */
  projectionCheckedAt = -1;

  constructor(private readonly world: World) {
    this.hibernation = new HibernationChecker(world.objectStore, world.probes);
    this.mirror = new MirrorChecker(world.jetstream, world.probes);
  }

  async afterStep(): Promise<void> {
    const world = this.world;
    const seen = world.violations[0];
    if (seen) throw seen;
    const host = world.host;
    if (!host?.alive) return;
    if (!(await logAlive(host))) {
      host.sick ??= "log failed";
      return;
    }
    // I1, I9, I10, I12–I14: the model re-derives them from each new line.
    const model = world.syncedModel();
    // I8: the projection never holds an event the log has not committed.
    const projected = world.projection.projection?.seq ?? 0;
    if (projected > host.ws.log.head()) fail("I8", `projection at seq ${projected}, log head ${host.ws.log.head()}`);
    // I12 "lost": every prompt a user was told about is in the log.
    for (const client of world.clients) {
      for (const sent of client.sent) if (sent.promptId !== undefined && !model.prompts.has(sent.promptId)) fail("I12", `prompt ${sent.promptId} (${sent.requestId}) was acknowledged but is not in the log`);
    }
    if (!host.clock.paused) this.replay.check(host);
    this.hibernation.check(host);
    this.mirror.check(host);
  }

  /** I1 over the whole log, I7 (rebuild equals incremental), I15 and I5 in full. */
  async atQuiescence(): Promise<void> {
    const host = this.world.host ?? fail("I21", "no host is up at quiescence");
    try {
      scanLog(this.world.storage, logDir(DIR), WORKSPACE);
    } catch (error) {
      fail("I1", error instanceof LogCorrupted ? error.message : String(error));
    }
    await this.checkProjection(host);
    this.replay.check(host);
    this.mirror.check(host);
    if (!this.mirror.caughtUp(host)) fail("I5", "JetStream does not hold the whole log at quiescence");
  }

  /** I7: the incrementally maintained projection dumps byte-equal to a rebuild from the log. */
  async checkProjection(host: Host): Promise<void> {
    this.projectionCheckedAt = host.epoch;
    const live = this.world.projection.dump();
    const seq = this.world.projection.projection?.seq ?? 0;
    if (live === undefined) return;
    const rebuilt = await rebuiltDump(host.ws.log, seq);
    if (live !== rebuilt) fail("I7", `projection at seq ${seq} differs from a rebuild: ${firstDifference(live, rebuilt)}`);
  }
}
