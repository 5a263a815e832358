import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

/**
 * The cloud SDKs, loaded on first use (Node caches them after that): importing both costs ~0.5 s
 * of startup, which the embedded default (a local folder store) and every CLI command that does
 * not touch a bucket would pay for nothing.
 */
export const awsS3 = (): typeof import("@aws-sdk/client-s3") => require("@aws-sdk/client-s3");
export const googleStorage = (): typeof import("@google-cloud/storage") => require("@google-cloud/storage");
