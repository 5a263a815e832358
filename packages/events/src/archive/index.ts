export * from "./errors.ts";
export * from "./object-store.ts";
export { localStoreDriver, type LocalStoreOptions } from "./local.ts";
export { gcsStoreDriver, type GcsStoreOptions } from "./gcs.ts";
export { s3StoreDriver, s3Client, type S3StoreOptions } from "./s3.ts";
