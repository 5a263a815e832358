import { expect, it } from "vitest";
import { harness } from "../harness.ts";

it("closing a workspace while its hibernation upload is in flight leaves no unhandled rejection", async () => {
  let upload!: (error: Error) => void;
  const snapshotStore = { put: () => new Promise<void>((_, reject) => (upload = reject)), get: async () => undefined };
  const ws = await harness().open({ snapshotStore });
  await ws.lifecycle.hibernate("ana");
  await new Promise((r) => setImmediate(r));
  await ws.close();
  // The upload fails after the close: recording the failure is no longer possible and must not throw.
  upload(new Error("bucket unreachable"));
  await new Promise((r) => setTimeout(r, 20));
  expect(ws.status()).toBe("hibernating");
});
