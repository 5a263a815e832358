/**
 * A long synchronous job written as a generator that yields between its transactions, so that
 * one body serves both a caller that runs it straight through (the CLI, `check`) and a server
 * that gives way between steps and keeps answering meanwhile.
 */
export type Steps<R> = Generator<unknown, R>;

export const runSteps = <R>(steps: Steps<R>): R => {
  let step: IteratorResult<unknown, R>;
  while (!(step = steps.next()).done);
  return step.value;
};

/** Runs `steps`, awaiting `giveWay` between them (straight through without it). */
export const runStepsGivingWay = async <R>(steps: Steps<R>, giveWay: (() => Promise<void>) | undefined): Promise<R> => {
  if (giveWay === undefined) return runSteps(steps);
  try {
    let step: IteratorResult<unknown, R>;
    while (!(step = steps.next()).done) await giveWay();
    return step.value;
  } finally {
    // Closes the job's files should `giveWay` throw between steps.
    steps.return(undefined as R);
  }
};
