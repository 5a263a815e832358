
declare global {
  /**
   * @atelier/events' systemClock calls `setTimeout(...).unref?.()`, which is fine at run time in
   * a browser (the optional call is skipped) but does not type-check against the DOM's numeric
   * timer handle; this optional member lets the shared source compile here unchanged.
   */
  interface Number {
    unref?: () => void;
  }
}
export {};
