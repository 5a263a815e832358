import type { Schema } from "effect";

/** What a compiled check returns for input it does not accept. */
export const REJECTED: unique symbol = Symbol("rejected");

/** Returns the decoded value, or REJECTED (the caller then asks Effect, which names the fault). */
export type CompiledCheck = (input: unknown) => unknown;

/** A refinement as Effect's AST holds it: `run` gives undefined when the value passes. */
interface Filter {
  readonly _tag: string;
  run(input: unknown, ast: unknown, options: object): unknown;
}

interface Node {
  readonly _tag: string;
  readonly checks?: readonly Filter[];
  readonly encoding?: unknown;
  readonly context?: { readonly isOptional?: boolean };
  readonly literal?: unknown;
  readonly types?: readonly Node[];
  readonly elements?: readonly Node[];
  readonly rest?: readonly Node[];
  readonly propertySignatures?: ReadonlyArray<{ readonly name: PropertyKey; readonly type: Node }>;
  readonly indexSignatures?: readonly unknown[];
}

const primitive = (tag: string): CompiledCheck | undefined => {
  switch (tag) {
    case "String":
      return (v) => (typeof v === "string" ? v : REJECTED);
    case "Number":
      return (v) => (typeof v === "number" ? v : REJECTED);
    case "Boolean":
      return (v) => (typeof v === "boolean" ? v : REJECTED);
    case "Null":
      return (v) => (v === null ? v : REJECTED);
    case "Undefined":
      return (v) => (v === undefined ? v : REJECTED);
    case "Unknown":
      return (v) => v;
    default:
      return undefined;
  }
};

const NO_OPTIONS = {};

/** The node's check followed by its filters (isInt, isMinLength, ...), run as Effect runs them. */
const compileNode = (node: Node): CompiledCheck | undefined => {
  const base = compileShape(node);
  const filters = node.checks ?? [];
  if (!base || filters.length === 0) return base;
  if (filters.some((f) => f._tag !== "Filter" || typeof f.run !== "function")) return undefined;
  return (v) => {
    const value = base(v);
    if (value === REJECTED) return REJECTED;
    for (const filter of filters) if (filter.run(value, node, NO_OPTIONS) !== undefined) return REJECTED;
    return value;
  };
};

const compileShape = (node: Node): CompiledCheck | undefined => {
  // Transformations are Effect's to run: such a schema is not compiled at all.
  if (node.encoding !== undefined) return undefined;
  const simple = primitive(node._tag);
  if (simple) return simple;
  switch (node._tag) {
    case "Literal": {
      const literal = node.literal;
      return (v) => (v === literal ? v : REJECTED);
    }
    case "Union": {
      // Only unions of scalars: for unions of objects Effect's choice of member is its own business.
      const members = (node.types ?? []).map((t) => (t._tag === "Objects" || t._tag === "Arrays" ? undefined : compileNode(t)));
      if (members.length === 0 || members.some((m) => m === undefined)) return undefined;
      const checks = members as CompiledCheck[];
      return (v) => {
        for (const check of checks) if (check(v) !== REJECTED) return v;
        return REJECTED;
      };
    }
    case "Arrays": {
      if ((node.elements ?? []).length > 0 || (node.rest ?? []).length !== 1) return undefined;
      const item = compileNode(node.rest![0]!);
      if (!item) return undefined;
      return (v) => {
        if (!Array.isArray(v)) return REJECTED;
        const out = new Array(v.length);
        for (let i = 0; i < v.length; i++) if ((out[i] = item(v[i])) === REJECTED) return REJECTED;
        return out;
      };
    }
    case "Objects":
      return compileObject(node);
    default:
      return undefined;
  }
};

const compileObject = (node: Node): CompiledCheck | undefined => {
  if ((node.indexSignatures ?? []).length > 0) return undefined;
  const props = (node.propertySignatures ?? []).map((p) => ({
    name: p.name,
    optional: p.type.context?.isOptional === true,
    check: compileNode(p.type),
  }));
  if (props.some((p) => typeof p.name !== "string" || !p.check)) return undefined;
  const known = new Set(props.map((p) => p.name as string));
  return (v) => {
    if (typeof v !== "object" || v === null || Array.isArray(v)) return REJECTED;
    const input = v as Record<string, unknown>;
    for (const key in input) if (!known.has(key)) return REJECTED; // excess properties are errors
    // Keys in schema order, as Effect's decoder gives them (the log's bytes depend on it).
    const out: Record<string, unknown> = {};
    for (const p of props) {
      const name = p.name as string;
      if (!Object.hasOwn(input, name)) {
        if (p.optional) continue;
        return REJECTED;
      }
      const value = p.check!(input[name]);
      if (value === REJECTED) return REJECTED;
      out[name] = value;
    }
    return out;
  };
};

/**
 * A plain-JavaScript check for the common payload shapes (structs of strings, numbers, literals,
 * arrays, optional fields, with Effect's own filters; no transformations), which decodes like Effect's strict
 * decoder at a fraction of its cost on the append path. Undefined for any other schema.
 */
export const compileCheck = (schema: Schema.Top): CompiledCheck | undefined => compileNode(schema.ast as unknown as Node);
