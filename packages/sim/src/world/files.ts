import type { Plant } from "./plant.ts";
import type { Host } from "./host.ts";
import type { LogModel } from "../checkers/model.ts";
import type { Probes } from "../checkers/probes.ts";
import { Violation } from "../checkers/violation.ts";

export interface FileWrite {
  readonly path: string;
  readonly agent: string;
  readonly token: number;
  readonly at: number;
}

/**
 * The workspace's file system as agents edit it: every write carries the writer's fencing token
 * and the gateway asks the lock actors (`locks.checkFence`) whether it is current. Accepted writes
 * are judged on the spot against the log (I9: the writer is the exclusive holder of that grant;
 * I10: tokens never go back), not against what the writer believed.
 */
export class FileGateway {
  readonly writes: FileWrite[] = [];
  private readonly highest = new Map<string, number>();

  constructor(
    private readonly model: () => LogModel,
    private readonly probes: Probes,
    private readonly plant: Plant | undefined,
    /** Writes are judged inside a request; the verdict goes to the world, not to the caller. */
    private readonly violate: (v: Violation) => void,
  ) {}

  write(host: Host, path: string, agent: string, token: number): boolean {
    const highest = this.highest.get(path) ?? 0;
    const accepted = this.plant === "lock-exclusion" ? token >= highest : host.ws.locks.checkFence(path, agent, token);
    if (!accepted) {
      this.probes.reach("stale fenced write rejected");
      return false;
    }
    const model = this.model();
    if (!model.holds(path, agent, token)) this.violate(new Violation("I9", `write to ${path} by ${agent} with token ${token} accepted, but the log does not show it holding that exclusive grant`));
    if (token < highest) this.violate(new Violation("I10", `write to ${path} with token ${token} accepted after token ${highest}`));
    this.highest.set(path, token);
    this.writes.push({ path, agent, token, at: host.clock.now() });
    return true;
  }
}
