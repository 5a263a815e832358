import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Schema } from "effect";
import { afterEach } from "vitest";
import { defineEvent, makeCatalogue } from "../src/index.ts";

/** A small catalogue for the log's own tests. */
export const testCatalogue = makeCatalogue(
  defineEvent("lock.acquired", {
    payload: Schema.Struct({ file: Schema.String, mode: Schema.Literals(["shared", "exclusive"]), token: Schema.Number }),
  }),
  defineEvent("note.added", { payload: Schema.Struct({ text: Schema.String }) }),
);

export const note = (text: string) => ({ type: "note.added", entity: "note", payload: { text } });

const made: string[] = [];
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A temp folder removed after the test. */
export const tempDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), "atelier-test-"));
  made.push(dir);
  return dir;
};
