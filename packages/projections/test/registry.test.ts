import { Schema } from "effect";
import { describe, expect, it } from "vitest";
import { defineEvent, type Envelope, makeCatalogue } from "@atelier/events";
import { defineProjectors, ignored, stmt, UnknownProjectedType } from "../src/index.ts";

const counted = defineEvent("counter.added", { payload: Schema.Struct({ n: Schema.Number }) });
const pinged = defineEvent("counter.pinged", { payload: Schema.Struct({}) });
const catalogue = makeCatalogue(counted, pinged);

const envelope = (seq: number, type: string, payload: unknown): Envelope => ({
  seq, ts: "2026-11-23T10:00:00.000Z", ws: "ws_t", id: `ev_${seq}`, entity: "counter", type, payload, hash: "0".repeat(64),
});

describe("the projector registry", () => {
  it("is total over the catalogue's event types, with typed payloads, at compile time", () => {
    const complete = defineProjectors(catalogue, "t@1", {
      "counter.added": (e) => [stmt("UPDATE counters SET n = n + ?", e.payload.n)],
      "counter.pinged": ignored,
    });
    expect(complete.version).toBe("t@1");
    // @ts-expect-error counter.pinged has neither a projector nor the ignored marker
    defineProjectors(catalogue, "t@1", { "counter.added": ignored });
    // @ts-expect-error counter.reset is not an event type of the catalogue
    defineProjectors(catalogue, "t@1", { "counter.added": ignored, "counter.pinged": ignored, "counter.reset": ignored });
    // @ts-expect-error the payload of counter.added has no field m
    defineProjectors(catalogue, "t@1", { "counter.added": (e) => [stmt("x", e.payload.m)], "counter.pinged": ignored });
  });

  it("maps each event to its projector's statements; an ignored event to none", () => {
    const registry = defineProjectors(catalogue, "t@1", {
      "counter.added": (e) => [stmt("UPDATE counters SET n = n + ?", e.payload.n)],
      "counter.pinged": ignored,
    });
    expect(registry.project(envelope(1, "counter.added", { n: 2 }))).toEqual([{ sql: "UPDATE counters SET n = n + ?", params: [2] }]);
    expect(registry.project(envelope(2, "counter.pinged", {}))).toEqual([]);
  });

  it("fails closed on an event type it does not know (a log from a newer build)", () => {
    const registry = defineProjectors(catalogue, "t@1", { "counter.added": ignored, "counter.pinged": ignored });
    expect(() => registry.project(envelope(3, "counter.reset", {}))).toThrow(UnknownProjectedType);
  });
});
