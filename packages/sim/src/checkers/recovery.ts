import type { Host } from "../world/host.ts";
import type { World } from "../world/world.ts";
import { fail } from "./violation.ts";

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
  if (first.ws.status() === "terminating") world.probes.reach("teardown resumed after a crash");
  if (world.damagedSnapshot !== undefined) {
    // Skipped, or taken (then I15 compares it with the log replayed, at the next step).
    if (!world.damagedSnapshot.endsWith(`${String(recovery.snapshotSeq).padStart(16, "0")}.json`)) world.probes.reach("damaged snapshot skipped");
    world.damagedSnapshot = undefined;
  }

  // Recovery may restart an interrupted hibernate/resume, which appends: compare at the same head.
  const head = first.ws.log.head();
  const before = { hash: first.ws.log.headHash(), state: JSON.stringify(first.ws.state()), timers: timerKeys(first) };
  await first.crash("process", world.faultRandom, 0);
  const { host: second, projectionStale: again } = await world.openHost();
  if (again) fail("I8", again);
  if (second.ws.log.head() < head || hashAt(second, head) !== before.hash) fail("I4", `recovering twice changed the log up to seq ${head}`);
  if (second.ws.log.head() === head) {
    if (JSON.stringify(second.ws.state()) !== before.state) fail("I4", "recovering twice gave a different state");
    if (timerKeys(second) !== before.timers) fail("I4", `recovering twice armed different timers: ${before.timers} vs ${timerKeys(second)}`);
  }
  return second;
};

const timerKeys = (host: Host): string =>
  host.ws
    .timers()
    .map((t) => t.key)
    .sort()
    .join(" ");
