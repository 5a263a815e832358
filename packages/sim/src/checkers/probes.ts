/**
 * "Sometimes" coverage probes (Antithesis `sometimes`, FDB CODE_PROBE): places a run should
 * reach in some seeds. The sweep reports the share of seeds that reached each one, so a fault
 * that never bites, or a path never taken, shows up as a zero.
 */
export const PROBES = [
  "recovered from a snapshot",
  "truncated a torn tail",
  "corruption failed closed",
  "damaged snapshot skipped",
  "prompt requeued after disconnect",
  "prompt completed after a requeue",
  "stale runner frame rejected",
  "duplicate enqueue deduplicated",
  "lock waiter granted after release",
  "lease expired",
  "stale fenced write rejected",
  "hibernated and resumed",
  "hibernation failed on object store",
  "second host refused the log",
  "projection lost transactions (F19)",
  "mirror republished after JetStream lost its tail",
  "recovery failed and was retried (F27)",
  "prompt cancelled while processing",
  "teardown resumed after a crash",
] as const;

export type Probe = (typeof PROBES)[number];

export class Probes {
  readonly hit = new Set<Probe>();

  reach(probe: Probe): void {
    this.hit.add(probe);
  }
}
