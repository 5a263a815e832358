import { afterEach, describe, expect, it, vi } from "vitest";
import { systemClock } from "../src/index.ts";

const DAY = 86_400_000;

afterEach(() => {
  vi.useRealTimers();
});

describe("the system clock's timers", () => {
  it("fire after a short delay, and not once cancelled", async () => {
    const fired: string[] = [];
    systemClock.setTimer(5, () => fired.push("kept"));
    systemClock.setTimer(5, () => fired.push("cancelled")).cancel();
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(fired).toEqual(["kept"]);
  });

  it("do not fire early when the delay is beyond setTimeout's 32-bit range (a 30-day lifetime)", async () => {
    const fired: number[] = [];
    const timer = systemClock.setTimer(30 * DAY, () => fired.push(1));
    // setTimeout alone would run it after 1 ms.
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(fired).toEqual([]);
    timer.cancel();
  });

  // Waiting 30 days cannot run here: vitest's fake timers (setTimeout and Date) stand in for the wall clock.
  it("fire at the deadline, not before, when it is reached in steps; a cancel stops any step", () => {
    vi.useFakeTimers();
    const fired: string[] = [];
    systemClock.setTimer(30 * DAY, () => fired.push("long"));
    const cancelled = systemClock.setTimer(60 * DAY, () => fired.push("cancelled"));
    vi.advanceTimersByTime(30 * DAY - 1);
    expect(fired).toEqual([]);
    cancelled.cancel();
    vi.advanceTimersByTime(1);
    expect(fired).toEqual(["long"]);
    vi.advanceTimersByTime(60 * DAY);
    expect(fired).toEqual(["long"]);
  });
});
