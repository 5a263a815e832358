/**
 * Planted bugs that prove the checkers bite. Read only here, by the simulator's own wiring (the
 * file gateway and the runner gateway it simulates), so nothing that ships can turn one on.
 *  - `lock-exclusion`: the file gateway fences writes against the highest token it has seen for
 *    the path instead of the lock's live grant, so a holder whose lease expired may still write.
 *  - `drop-requeue`: the runner gateway keeps a dead runner's session alive (heartbeating for it
 *    and never reporting the disconnect), so its prompt is never reverted to queued.
 */
export type Plant = "lock-exclusion" | "drop-requeue";

export const PLANTS: readonly Plant[] = ["lock-exclusion", "drop-requeue"];

export const plantFrom = (value: string | undefined): Plant | undefined => {
  if (value === undefined || value === "") return undefined;
  if (!(PLANTS as readonly string[]).includes(value)) throw new Error(`unknown ATELIER_SIM_PLANT ${value} (known: ${PLANTS.join(", ")})`);
  return value as Plant;
};

/** The switch, off unless ATELIER_SIM_PLANT names a plant. */
export const plantFromEnv = (): Plant | undefined => plantFrom(process.env.ATELIER_SIM_PLANT);
