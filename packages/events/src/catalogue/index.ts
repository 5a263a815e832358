export * from "./define.ts";
export * from "./catalogue.ts";
export { decodeStrict, describeSchemaError, type SchemaProblem } from "./schema-errors.ts";
