import { nodeStorage } from "@atelier/events";
import { openWorkspace } from "@atelier/actors";
import * as fs from "node:fs";
const dir = fs.mkdtempSync("/work/main/.tmp/prof-");
const ws = await openWorkspace(dir, { workspace: "ws_bench", storage: nodeStorage(), fsync: "batch", snapshotEvery: 10_000, leaseMs: 600_000 });
const t0 = performance.now();
let inflight: Promise<unknown>[] = [];
const PAIRS = 60000;
for (let i = 0; i < PAIRS; i++) {
  const path = `src/f${i % 64}.ts`; const agent = `agent${i % 8}`;
  inflight.push(ws.locks.acquire(path, agent, "exclusive"), ws.locks.release(path, agent));
  if (inflight.length >= 2000) { await Promise.all(inflight); inflight = []; }
}
await Promise.all(inflight);
console.log(Math.round(PAIRS * 2 / ((performance.now() - t0) / 1000)), "cmd/s");
await ws.close(); fs.rmSync(dir, { recursive: true });
