/** The mirror's pure parts: backoff, subject naming, and where the NATS URL comes from. */
import { expect, it } from "vitest";
import { backoffDelay, msgIdFor, natsUrl, seededRandom, subjectFor } from "@atelier/events";

it("backoff doubles from the base to the ceiling, jittered in the upper half, and replays under a seed", () => {
  const delays = (seed: number) => Array.from({ length: 10 }, (_, attempt) => backoffDelay(attempt, seededRandom(seed + attempt), { baseMs: 100, maxMs: 5000 }));
  const d = delays(7);
  d.forEach((ms, attempt) => {
    const ceiling = Math.min(5000, 100 * 2 ** attempt);
    expect(ms).toBeGreaterThanOrEqual(ceiling / 2);
    expect(ms).toBeLessThan(ceiling);
  });
  expect(delays(7)).toEqual(d);
  expect(delays(8)).not.toEqual(d);
});

it("names one subject per workspace and refuses ids that are not a subject token", () => {
  expect(subjectFor("ws_8f3k")).toBe("atelier.ws.ws_8f3k.events");
  expect(msgIdFor("ws_8f3k", 42)).toBe("ws_8f3k:42");
  for (const bad of ["a.b", "a*", "a>", "a b", ""]) expect(() => subjectFor(bad)).toThrow(/cannot be a NATS subject token/);
});

it("takes the NATS URL from --nats, else ATELIER_NATS_URL, else mirroring is off", () => {
  expect(natsUrl("nats://a:4222", { ATELIER_NATS_URL: "nats://b:4222" })).toBe("nats://a:4222");
  expect(natsUrl(undefined, { ATELIER_NATS_URL: "nats://b:4222" })).toBe("nats://b:4222");
  expect(natsUrl(undefined, {})).toBeUndefined();
});
