import { expect } from "vitest";
import { step, type ActorSnapshot, type AtelierEvent, type Step } from "@atelier/actors/machines";

/**
 * Given/When/Then for one actor: `given` events must all be accepted (they are the log so far),
 * `when` is the event under test; the returned step says whether it was accepted, the states it
 * moved between, its context and its effects.
 */
export const given = (entity: string, ...history: AtelierEvent[]) => {
  let snapshot: ActorSnapshot | undefined;
  for (const event of history) {
    const s = step(entity, snapshot, event);
    expect(s.accepted, `given ${event.type} from ${s.from}`).toBe(true);
    snapshot = s.after;
  }
  return {
    snapshot,
    when: (event: AtelierEvent): Then => then(step(entity, snapshot, event)),
  };
};

export interface Then extends Step {
  /** Accepted, landing in `state`. */
  moves(to: string): Then;
  /** Refused: nothing would be written. */
  refused(): Then;
  ctx<C>(): C;
}

const then = (s: Step): Then => ({
  ...s,
  moves(to) {
    expect(s.accepted, `expected ${to}, event refused in ${s.from}`).toBe(true);
    expect(s.to).toBe(to);
    return this;
  },
  refused() {
    expect(s.accepted, `expected refusal, moved ${s.from} → ${s.to}`).toBe(false);
    return this;
  },
  ctx<C>() {
    return s.after.context as C;
  },
});
