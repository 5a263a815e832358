import { Schema } from "effect";
import { describe, expect, it } from "vitest";
import { InvalidEvent, UnknownEventType, VirtualClock, defineEvent, makeCatalogue, openLog, seededRandom, MemoryStorage } from "../src/index.ts";

const renamed = defineEvent("agent.registered", {
  version: 3,
  payload: Schema.Struct({ vendor: Schema.String, model: Schema.String, tags: Schema.Array(Schema.String) }),
  upcasters: {
    1: (p) => ({ vendor: (p as { llm: string }).llm, model: "unknown" }),
    2: (p) => ({ ...(p as object), tags: [] }),
  },
});

describe("the event catalogue", () => {
  const catalogue = makeCatalogue(renamed);

  it("rejects a type it does not know", () => {
    expect(() => catalogue.validate("agent.vanished", {})).toThrow(UnknownEventType);
  });

  it("names the bad field and lists every problem", () => {
    const error = (() => {
      try {
        catalogue.validate("agent.registered", { vendor: 1, model: "m", tags: ["a", 2] });
      } catch (e) {
        return e as InvalidEvent;
      }
    })();
    expect(error).toBeInstanceOf(InvalidEvent);
    expect(error?.path).toBe("payload.vendor");
    expect(error?.message).toContain("payload.tags.1");
  });

  it("refuses extra fields rather than dropping them", () => {
    expect(() => catalogue.validate("agent.registered", { vendor: "v", model: "m", tags: [], secret: 1 })).toThrow(/payload.secret/);
  });

  it("lifts old payloads through each upcaster in turn", () => {
    expect(catalogue.upcast("agent.registered", 1, { llm: "kimi" })).toEqual({ vendor: "kimi", model: "unknown", tags: [] });
    expect(catalogue.upcast("agent.registered", 2, { vendor: "x", model: "y" })).toEqual({ vendor: "x", model: "y", tags: [] });
    expect(catalogue.upcast("agent.registered", 3, { vendor: "x", model: "y", tags: ["t"] })).toEqual({ vendor: "x", model: "y", tags: ["t"] });
  });

  it("requires an upcaster for every older version", () => {
    expect(() => defineEvent("x.y", { version: 2, payload: Schema.Struct({}) })).toThrow(/upcaster from v1/);
  });

  it("refuses a type defined twice, also when extended", () => {
    expect(() => catalogue.extend(renamed)).toThrow(/defined twice/);
    expect(catalogue.extend(defineEvent("other.thing", { payload: Schema.Struct({}) })).types).toEqual(["agent.registered", "other.thing"]);
  });

  it("stamps the current version on appends and upcasts older stored lines on read", async () => {
    const storage = new MemoryStorage();
    const v1 = makeCatalogue(defineEvent("agent.registered", { payload: Schema.Struct({ llm: Schema.String }) }));
    const common = { workspace: "ws", storage, clock: new VirtualClock(), random: seededRandom(2) };
    const old = await openLog("/ws", { ...common, catalogue: v1 });
    const [stored] = await old.append([{ type: "agent.registered", entity: "agent:k", payload: { llm: "kimi" } }]);
    expect(stored!.v).toBeUndefined();
    await old.close();
    const log = await openLog("/ws", { ...common, catalogue });
    const [fresh] = await log.append([{ type: "agent.registered", entity: "agent:c", payload: { vendor: "claude", model: "opus", tags: [] } }]);
    expect(fresh!.v).toBe(3);
    expect([...log.read()].map((e) => e.payload)).toEqual([
      { vendor: "kimi", model: "unknown", tags: [] },
      { vendor: "claude", model: "opus", tags: [] },
    ]);
    expect([...log.readRaw()][0]!.line).toContain('"payload":{"llm":"kimi"}');
  });
});
