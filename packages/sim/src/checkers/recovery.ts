import { createHash } from "node:crypto";
import { joinPath, logDir, type MemoryStorage } from "@atelier/events";
import { DIR } from "../world/config.ts";
import type { Host } from "../world/host.ts";
import type { World } from "../world/world.ts";
import { fail } from "./violation.ts";

/** sha256 over every file of the workspace's log folder, names included. */
export const logDigest = (storage: MemoryStorage): string => {
  const hash = createHash("sha256");
  const dir = logDir(DIR);
  for (const name of storage.list(dir)) {
    const bytes = storage.readFile(joinPath(dir, name));
    if (bytes) hash.update(name).update(bytes);
  }
  return hash.digest("hex");
};

const hashAt = (host: Host, seq: number): string | undefined => {
  for (const { line } of host.ws.log.readRaw({ from: seq, to: seq })) return (JSON.parse(line) as { hash: string }).hash;
  return undefined;
};

/**
 * After every restart: I2 (the acknowledged prefix survived, hash for hash), I8 (the projection
 * file is not ahead of the log), and I4 (recovering again, as after a crash during or right after
 * recovery, changes neither the log's bytes nor the recovered state nor the armed timers).
 */
export const checkRecovery = async (world: World, first: Host, projectionStale: string | undefined): Promise<Host> => {
  const { seq, hash } = world.acked;
  if (seq > 0 && (first.ws.log.head() < seq || hashAt(first, seq) !== hash)) {
    fail("I2", `acknowledged event ${seq} is missing or different after recovery (head ${first.ws.log.head()})`);
  }
  if (world.model.seq > 0 && hashAt(first, world.model.seq) !== world.model.hash) fail("I2", `committed event ${world.model.seq} changed across recovery`);
  if (projectionStale) fail("I8", projectionStale);
  const recovery = first.ws.recovery;
  if (recovery.snapshotSeq > 0) world.probes.reach("recovered from a snapshot");
  if (first.ws.log.recovery.truncated) world.probes.reach("truncated a torn tail");

  const before = { digest: logDigest(world.storage), state: JSON.stringify(first.ws.state()), timers: timerKeys(first) };
  await first.crash("process", world.faultRandom, 0);
  const { host: second, projectionStale: again } = await world.openHost();
  const after = { digest: logDigest(world.storage), state: JSON.stringify(second.ws.state()), timers: timerKeys(second) };
  if (again) fail("I8", again);
  if (after.digest !== before.digest) fail("I4", "recovering twice changed the log's bytes");
  if (after.state !== before.state) fail("I4", "recovering twice gave a different state");
  if (after.timers !== before.timers) fail("I4", `recovering twice armed different timers: ${before.timers} vs ${after.timers}`);
  return second;
};

const timerKeys = (host: Host): string =>
  host.ws
    .timers()
    .map((t) => t.key)
    .sort()
    .join(" ");
