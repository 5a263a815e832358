#!/usr/bin/env node
// Runs the TypeScript CLI through tsx's loader, so `npx atelier` needs no build step.
import { register } from "tsx/esm/api";

register();
process.env.ATELIER_CLI_SHIM = "1";
await import("../src/cli/main.ts");
