import { afterEach, expect, it } from "vitest";
import { type AppendInput, openLog, VirtualClock } from "@atelier/events";
import { atelierCatalogue } from "@atelier/actors/machines";
import { listMessages, openProjection } from "../src/index.ts";
import { cleanup, tempDir } from "./support/fixtures.ts";

afterEach(cleanup);

const T = Date.UTC(2026, 10, 23, 10, 0, 0);
const bus = (i: number, channel: string): AppendInput => ({
  type: "bus.published",
  entity: `channel:${channel}`,
  payload: { at: T + i, channel, messageId: `m${i}`, sender: i % 2 ? "claude" : "gemini", body: { file: `src/${i}.ts` }, ttlMs: 60_000 },
});

it("listMessages filters by channel (the gateway's artifacts block), newest first and paged", async () => {
  const dir = tempDir("messages-channel");
  const log = await openLog(dir, { workspace: "ws_c", catalogue: atelierCatalogue, fsync: "none", clock: new VirtualClock(T) });
  const projection = await openProjection(dir, log);
  await log.append([1, 2, 3, 4, 5, 6].map((i) => bus(i, i % 3 === 0 ? "state" : "file_modified")));
  const page = listMessages(projection, { channel: "file_modified", limit: 3 });
  expect(page.items.map((m) => m.ref)).toEqual(["m5", "m4", "m2"]);
  expect(listMessages(projection, { channel: "file_modified", before: page.next }).items.map((m) => m.ref)).toEqual(["m1"]);
  expect(listMessages(projection, { channel: "file_modified", agent: "claude" }).items.map((m) => m.ref)).toEqual(["m5", "m1"]);
  await projection.close();
  await log.close();
});
