import { chance, joinPath, LogLocked, logDir, nextInt, pick, seededRandom } from "@atelier/events";
import { fail } from "../checkers/violation.ts";
import { DIR, LEASE_MS } from "../world/config.ts";
import type { World } from "../world/world.ts";
import type { DiscreteFault } from "./catalogue.ts";

/**
 * A byte to damage: in the log, one inside a complete line and never a newline (flipping one
 * would look like a torn tail, which recovery rightly truncates); in a snapshot, any byte.
 */
const damageable = (data: Uint8Array, inLog: boolean, r: ReturnType<typeof seededRandom>): number | undefined => {
  const end = inLog ? data.lastIndexOf(10) : data.length;
  if (end <= 0) return undefined;
  for (let tries = 0; tries < 8; tries++) {
    const offset = nextInt(r, 0, end - 1);
    if (data[offset] !== 10) return offset;
  }
  return undefined;
};

/**
 * Injects one discrete fault; `arg` (drawn with the scenario) fixes its parameters so that a
 * shrunk trace replays the same fault. Faults that need a target that is not there (no host, no
 * snapshot yet) do nothing and are not counted.
 */
export const applyFault = async (world: World, fault: DiscreteFault, arg: number): Promise<void> => {
  const r = seededRandom(arg);
  const host = world.host;
  const runner = pick(r, world.runners);
  const link = pick(r, world.links);
  const fired = (details: Record<string, unknown> = {}) => {
    world.count(fault);
    world.note("sim.fault", { fault, ...details });
  };
  switch (fault) {
    case "crash":
    case "power-loss":
    case "torn-write": {
      if (!host) return;
      const kind = fault === "crash" ? "process" : "power";
      const torn = fault === "torn-write" ? 1 : 0;
      const midAppend = chance(r, 0.6);
      fired({ midAppend });
      // Often the crash lands inside an append (written, not yet synced), as kill -9 does.
      if (midAppend) return world.crashMidAppend(kind, nextInt(r, 100, 20_000), torn);
      return world.crashHost(kind, nextInt(r, 100, 20_000), torn);
    }
    case "bit-flip": {
      if (!host || world.corruption) return;
      const inLog = chance(r, 0.6);
      const dir = inLog ? logDir(DIR) : joinPath(DIR, "snapshots");
      const names = world.storage.list(dir).filter((n) => n.endsWith(inLog ? ".jsonl" : ".json"));
      if (names.length === 0) return;
      await world.crashHost("process", nextInt(r, 100, 5000));
      const path = joinPath(dir, pick(r, names));
      const data = world.storage.readFile(path)!;
      const offset = damageable(data, inLog, r);
      if (offset === undefined) return;
      const bit = nextInt(r, 0, 6);
      world.storage.flipBit(path, offset, bit);
      // A snapshot is only a shortcut: recovery may skip a damaged one and replay the log.
      if (inLog) world.corruption = { path, offset, bit, inLog };
      else world.damagedSnapshot = path;
      return fired({ path, offset, bit });
    }
    case "io-error":
      if (!host) return;
      world.storage.injectFault({ op: pick(r, ["append", "sync", "any"] as const), code: "EIO", afterOps: nextInt(r, 0, 20), persistent: chance(r, 0.3) });
      return fired();
    case "disk-full":
      if (!host) return;
      world.storage.capacityBytes = bytesStored(world) + nextInt(r, 0, 4000);
      return fired({ capacityBytes: world.storage.capacityBytes });
    case "partition": {
      const ms = nextInt(r, 1000, 60_000);
      link.partition(ms);
      // Symmetric half the time: the other direction of the same connection goes too.
      if (chance(r, 0.5)) world.links[world.links.indexOf(link) ^ 1]?.partition(ms);
      return fired({ link: link.name, ms });
    }
    case "clog": {
      const ms = nextInt(r, 500, 30_000);
      link.clog(ms);
      return fired({ link: link.name, ms });
    }
    case "pause-host":
      if (!host) return;
      host.clock.pause(nextInt(r, 1000, LEASE_MS * 2));
      return fired();
    case "pause-runner":
      runner.pause(nextInt(r, 1000, LEASE_MS * 3));
      return fired({ agent: runner.agent });
    case "clock-jump": {
      const ms = nextInt(r, 1000, 10 * 60_000);
      world.skew.offsetMs += ms;
      return fired({ ms });
    }
    case "runner-crash":
      if (!runner.alive) return;
      runner.crash(nextInt(r, 1000, 90_000));
      return fired({ agent: runner.agent });
    case "stale-frame":
      if (!runner.connected) return;
      runner.reconnect(nextInt(r, 500, 20_000));
      return fired({ agent: runner.agent });
    case "lost-ack":
      world.jetstream.loseAcks(nextInt(r, 1, 5));
      return fired();
    case "jetstream-loss": {
      if (world.jetstreamDown) return;
      world.jetstream.crash();
      const loseTail = nextInt(r, 0, 10);
      const restart = () => {
        world.jetstreamDown = undefined;
        world.jetstream.restart(loseTail);
      };
      world.jetstreamDown = { timer: world.clock.setTimer(nextInt(r, 500, 30_000), restart), restart };
      return fired({ loseTail });
    }
    case "projection-loss":
      if (!host) return;
      world.probes.reach("projection lost transactions (F19)");
      fired();
      return world.crashHost("power", nextInt(r, 100, 5000), 0);
    case "object-store":
      world.objectStore.arm(pick(r, ["error", "lost-response", "timeout"] as const));
      return fired();
    case "dual-host":
      if (!host) return;
      fired();
      try {
        await world.openHost();
      } catch (error) {
        if (error instanceof LogLocked) return world.probes.reach("second host refused the log");
        throw error;
      }
      return fail("I17", "a second host opened the log of a live one");
    case "recovery-fault":
      if (!host) return;
      world.recoveryFault = true;
      fired();
      // Torn, so that recovery has a tail to truncate (and an fsync to fail).
      return world.crashMidAppend("power", nextInt(r, 100, 5000), 1);
  }
};

/** Every byte on the simulated disk. */
const bytesStored = (world: World): number => {
  let total = 0;
  const walk = (dir: string) => {
    for (const name of world.storage.list(dir)) {
      const path = joinPath(dir, name);
      if (world.storage.readFile(path)) total += world.storage.fileSize(path);
      else walk(path);
    }
  };
  walk("/sim");
  return total;
};
