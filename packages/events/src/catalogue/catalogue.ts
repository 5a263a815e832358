import { UnknownEventType } from "../errors.ts";
import type { EventDefinition, EventUnion } from "./define.ts";
import { decodeStrict } from "./schema-errors.ts";
import { compileCheck, REJECTED, type CompiledCheck } from "./fast-check.ts";

/**
 * The one registry of event definitions. Later packages extend it with their own events;
 * the log refuses any type it does not know.
 */
export class EventCatalogue<Defs extends readonly EventDefinition[] = readonly EventDefinition[]> {
  private readonly byType: ReadonlyMap<string, EventDefinition>;
  /** Per type, the compiled check of its payload schema when it has one (see fast-check.ts). */
  private readonly compiled = new Map<string, CompiledCheck | undefined>();

  constructor(readonly definitions: Defs) {
    const byType = new Map<string, EventDefinition>();
    for (const def of definitions) {
      if (byType.has(def.type)) throw new Error(`event type ${def.type} is defined twice`);
      byType.set(def.type, def);
    }
    this.byType = byType;
  }

  /** A new catalogue with `more` added; a type defined twice is an error. */
  extend<More extends readonly EventDefinition[]>(...more: More): EventCatalogue<[...Defs, ...More]> {
    return new EventCatalogue([...this.definitions, ...more] as [...Defs, ...More]);
  }

  get types(): string[] {
    return [...this.byType.keys()];
  }

  has(type: string): type is EventUnion<Defs>["type"] {
    return this.byType.has(type);
  }

  definition(type: string): EventDefinition {
    const def = this.byType.get(type);
    if (!def) throw new UnknownEventType(type);
    return def;
  }

  /** Validates a payload against the current version of its type; throws a typed error naming the field. */
  validate(type: string, payload: unknown): unknown {
    const def = this.definition(type);
    let check = this.compiled.get(type);
    if (check === undefined && !this.compiled.has(type)) this.compiled.set(type, (check = compileCheck(def.payload)));
    const decoded = check ? check(payload) : REJECTED;
    // What the compiled check refuses (or cannot judge), Effect decides, naming the fault.
    return decoded !== REJECTED ? decoded : decodeStrict(def.payload, payload, type, "payload");
  }

  /** Lifts a payload stored at version `v` to the current version, through each upcaster in turn. */
  upcast(type: string, v: number | undefined, payload: unknown): unknown {
    const def = this.definition(type);
    let current = payload;
    for (let from = v ?? 1; from < def.version; from++) current = def.upcasters[from]!(current);
    return current;
  }
}

/** Builds a catalogue from definitions. */
export const makeCatalogue = <const Defs extends readonly EventDefinition[]>(...definitions: Defs) =>
  new EventCatalogue(definitions);
