import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import type { IncomingHttpHeaders, Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

interface S3rverInstance {
  run(): Promise<AddressInfo>;
  httpServer: Server;
}
type S3rverClass = new (options: Record<string, unknown>) => S3rverInstance;

// s3rver ships CommonJS without types.
const S3rver = createRequire(import.meta.url)("s3rver") as S3rverClass;

/** A request as the server saw it, for tests that check what a client sent. */
export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
}

export interface S3TestServer {
  readonly endpoint: string;
  readonly requests: RecordedRequest[];
  /** s3rver's built-in account. */
  readonly credentials: { accessKeyId: string; secretAccessKey: string };
  stop(): Promise<void>;
}

/**
 * A real S3 API server (s3rver) on a free loopback port, with `buckets` created and its data in a
 * temp folder removed on stop. It does not enforce `If-None-Match` on PUT.
 */
export const startS3Server = async (buckets: readonly string[]): Promise<S3TestServer> => {
  const directory = mkdtempSync(join(tmpdir(), "atelier-s3rver-"));
  const server = new S3rver({
    address: "127.0.0.1",
    port: 0,
    silent: true,
    directory,
    configureBuckets: buckets.map((name) => ({ name })),
  });
  const { port } = await server.run();
  const requests: RecordedRequest[] = [];
  server.httpServer.on("request", (req) => requests.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers }));
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
    stop: async () => {
      server.httpServer.closeAllConnections();
      await new Promise<void>((resolve) => server.httpServer.close(() => resolve()));
      rmSync(directory, { recursive: true, force: true });
    },
  };
};
