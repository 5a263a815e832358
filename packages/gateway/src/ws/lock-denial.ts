import type { LockInfo } from "@atelier/projections";
import type { DenialReason, LockDenial } from "../protocol/runner.ts";

const iso = (ms: number): string => new Date(ms).toISOString();

/** The denial of `file`, described from its lock as the read model has it after the refusal committed. */
export const lockDenial = (file: string, reason: DenialReason, lock: LockInfo): LockDenial => {
  const holders = lock.holders.map(({ agent, mode, since, expiresAt }) => ({ agent, mode, since, expiresAt }));
  const held =
    holders.length === 0
      ? `${file} is free now`
      : `${file} is held ${lock.state} by ${holders.map((h) => `${h.agent} since ${iso(h.since)} (lease until ${iso(h.expiresAt)})`).join(", ")}`;
  const waiting = `${lock.waiters.length} waiting`;
  const message =
    reason === "busy"
      ? `${held}; ${waiting}`
      : reason === "gave_up"
        ? `gave up waiting: ${held}; ${waiting}`
        : `the wait for ${file} ended: this runner went offline`;
  return { reason, holders, waiting: lock.waiters.length, message };
};
