import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { atelierCatalogue, replay, type ReplayableEnvelope } from "@atelier/actors/machines";

const machinesDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../src/machines");
const sources = (dir: string): string[] =>
  fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(path.join(dir, e.name)) : [path.join(dir, e.name)]));

describe("@atelier/actors/machines entry", () => {
  it("is browser-safe: imports only xstate, effect, @atelier/events/schema and itself", () => {
    for (const file of sources(machinesDir)) {
      const imports = [...fs.readFileSync(file, "utf8").matchAll(/from "([^"]+)"/g)].map((m) => m[1]!);
      for (const spec of imports) expect(["xstate", "effect", "@atelier/events/schema"].includes(spec) || spec.startsWith("."), `${file}: ${spec}`).toBe(true);
    }
  });

  it("every event type has a one-line doc", () => {
    for (const def of atelierCatalogue.definitions) expect(def.doc, def.type).toMatch(/^[^\n]{10,}$/);
  });

  it("replay from a mid-log snapshot equals replay from the start", () => {
    const log: ReplayableEnvelope[] = [
      { seq: 1, entity: "lock:a.ts", type: "lock.acquired", payload: { at: 1, path: "a.ts", agent: "x", mode: "exclusive", token: 1, expiresAt: 9 } },
      { seq: 2, entity: "channel:state", type: "bus.published", payload: {} },
      { seq: 3, entity: "lock:a.ts", type: "lock.queued", payload: { at: 2, path: "a.ts", agent: "y", mode: "shared", leaseMs: 5 } },
      { seq: 4, entity: "lock:a.ts", type: "lock.released", payload: { at: 3, path: "a.ts", agent: "x", token: 1, reason: "released" } },
      { seq: 5, entity: "lock:a.ts", type: "lock.acquired", payload: { at: 3, path: "a.ts", agent: "y", mode: "shared", token: 2, expiresAt: 8 } },
    ];
    const whole = replay(log);
    expect(replay(log.slice(2), replay(log.slice(0, 2)))).toEqual(whole);
    expect(whole.actors["lock:a.ts"]!.state).toBe("shared");
    expect(() => replay([log[0]!, { ...log[4]!, seq: 2 }])).toThrow(/replay diverged at seq 2/);
  });
});
