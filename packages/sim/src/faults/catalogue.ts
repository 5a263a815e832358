import { chance, nextFloat, nextInt, type Random } from "@atelier/events";

/**
 * The faults the world can inject, each with its row of SIMULATION.md. Discrete faults are
 * scheduled as scenario steps; link faults (loss, duplication, reordering) act on every frame.
 * Not supported, and why: F5 misdirected writes (MemoryStorage has no write-target model), F16
 * racing publishers and F18 consumer acks (no JetStream consumers exist yet), F23 promise-order
 * fuzzing (the run is one deterministic ready queue), F24 buggify sites (none in the code), F25
 * and F26 (gateway frames and auth: the simulated boundary is the workspace API, not the socket),
 * F28 version skew (one build).
 */
export const DISCRETE_FAULTS = {
  crash: "F1 kill -9 of the workspace host",
  "power-loss": "F2 power loss: unsynced bytes and never-synced files lost",
  "torn-write": "F3 power loss keeping a torn prefix of the unsynced tail",
  "bit-flip": "F4 a bit flips in the middle of the log or in a snapshot",
  "io-error": "F6 EIO on an append or an fsync",
  "disk-full": "F6 ENOSPC: the disk fills up",
  partition: "F8 a link drops everything for a while (one direction or both)",
  clog: "F11 a link stalls, then delivers in a burst",
  "pause-host": "F12 the workspace host is paused (SIGSTOP) past a lease",
  "pause-runner": "F12 a runner is paused past its lease",
  "clock-jump": "F13 the host's wall clock steps forward",
  "runner-crash": "F14 a runner dies mid-prompt and comes back later",
  "stale-frame": "F14 a runner reconnects; a frame of its old session arrives late",
  "lost-ack": "F15 JetStream stores publishes but their acks are lost",
  "jetstream-loss": "F17 JetStream restarts having lost acknowledged messages",
  "projection-loss": "F19 power loss loses the projection's transactions since its checkpoint",
  "object-store": "F20 the object store fails, times out or loses a response during hibernate/resume",
  "dual-host": "F21 a second host tries to open the same workspace",
  "recovery-fault": "F27 an I/O error while recovering after a crash",
} as const;

export type DiscreteFault = keyof typeof DISCRETE_FAULTS;

export const LINK_FAULTS = {
  loss: "F9 frames lost",
  reorder: "F9 frames delayed and reordered",
  duplicate: "F10 frames duplicated (replayed)",
} as const;

export type LinkFault = keyof typeof LINK_FAULTS;
export type FaultName = DiscreteFault | LinkFault;

export const ALL_FAULTS: readonly FaultName[] = [...(Object.keys(DISCRETE_FAULTS) as DiscreteFault[]), ...(Object.keys(LINK_FAULTS) as LinkFault[])];

export const describeFault = (f: FaultName): string => (f in DISCRETE_FAULTS ? DISCRETE_FAULTS[f as DiscreteFault] : LINK_FAULTS[f as LinkFault]);

/** One seed's fault probabilities (VOPR: each seed turns faults on and off and picks their rates). */
export interface FaultProfile {
  /** Probability that a step injects a discrete fault. */
  readonly perStep: number;
  /** Relative weight of each enabled discrete fault (0: off this seed). */
  readonly weights: Readonly<Record<DiscreteFault, number>>;
  readonly loss: number;
  readonly duplicate: number;
  readonly maxDelayMs: number;
}

export const drawProfile = (random: Random, enabled: ReadonlySet<FaultName>): FaultProfile => {
  const weights = {} as Record<DiscreteFault, number>;
  for (const f of Object.keys(DISCRETE_FAULTS) as DiscreteFault[]) weights[f] = enabled.has(f) && chance(random, 0.75) ? 0.1 + nextFloat(random) : 0;
  const on = (f: LinkFault) => enabled.has(f) && chance(random, 0.75);
  return {
    perStep: 0.02 + nextFloat(random) * 0.1,
    weights,
    loss: on("loss") ? nextFloat(random) * 0.08 : 0,
    duplicate: on("duplicate") ? nextFloat(random) * 0.08 : 0,
    maxDelayMs: on("reorder") ? nextInt(random, 50, 3000) : 20,
  };
};

/** The profile as printed before a seed runs: per-step probability of each fault, per-frame link rates. */
export const describeProfile = (p: FaultProfile): string => {
  const total = Object.values(p.weights).reduce((a, b) => a + b, 0);
  const discrete = (Object.entries(p.weights) as [DiscreteFault, number][])
    .filter(([, w]) => w > 0)
    .map(([f, w]) => `${f}=${((p.perStep * w) / total).toFixed(4)}`);
  return [...discrete, `loss=${p.loss.toFixed(3)}/frame`, `duplicate=${p.duplicate.toFixed(3)}/frame`, `delay=1..${p.maxDelayMs}ms`].join(" ");
};
