import { execFileSync } from "node:child_process";
import { expect, it } from "vitest";

// A fresh process, so no other test has loaded the SDKs already.
const loadedAfter = (code: string): string[] =>
  JSON.parse(
    execFileSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", `${code}
      const { createRequire } = await import("node:module");
      const cache = createRequire(import.meta.url).cache;
      console.log(JSON.stringify(["@aws-sdk/client-s3", "@google-cloud/storage"].filter((sdk) => Object.keys(cache).some((k) => k.includes(sdk)))));`], { cwd: import.meta.dirname, encoding: "utf8" }),
  );

it("importing @atelier/events loads no cloud SDK; a driver loads its own on construction", () => {
  expect(loadedAfter(`await import("@atelier/events");`)).toEqual([]);
  expect(loadedAfter(`const e = await import("@atelier/events"); e.s3StoreDriver({ bucket: "b", endpoint: "http://127.0.0.1:1" });`)).toEqual(["@aws-sdk/client-s3"]);
  expect(loadedAfter(`const e = await import("@atelier/events"); e.gcsStoreDriver({ bucket: "b", apiEndpoint: "http://127.0.0.1:1" });`)).toEqual(["@google-cloud/storage"]);
}, 30_000);
