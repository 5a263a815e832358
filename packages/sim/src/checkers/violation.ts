/** An invariant of SIMULATION.md that did not hold; the run stops at the first one. */
export class Violation extends Error {
  constructor(
    readonly invariant: string,
    readonly detail: string,
  ) {
    super(`${invariant}: ${detail}`);
  }
}

export const fail = (invariant: string, detail: string): never => {
  throw new Violation(invariant, detail);
};
