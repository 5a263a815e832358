import { mkdtempSync, rmSync } from "node:fs";
import type { Server } from "node:http";
import type { RecordedRequest } from "./s3-server.ts";
import type { AddressInfo } from "node:net";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";

interface StorageEmulator {
  args: { port: number };
  _persistence: { reset(dir: string): void };
}
interface FirebaseStorageModules {
  StorageEmulator: new (args: Record<string, unknown>) => StorageEmulator;
  createApp(projectId: string, emulator: StorageEmulator): Promise<{ listen(port: number, host: string, cb: () => void): Server }>;
  EmulatorRegistry: { set(name: string, instance: StorageEmulator): void };
}

// firebase-tools is CommonJS without types; these are internal modules of its CLI, pinned by version.
const load = (): FirebaseStorageModules => {
  const require = createRequire(import.meta.url);
  return {
    StorageEmulator: require("firebase-tools/lib/emulator/storage/index.js").StorageEmulator,
    createApp: require("firebase-tools/lib/emulator/storage/server.js").createApp,
    EmulatorRegistry: require("firebase-tools/lib/emulator/registry.js").EmulatorRegistry,
  };
};

export interface GcsTestServer {
  readonly requests: RecordedRequest[];
  /** For `apiEndpoint` of `@google-cloud/storage`. */
  readonly endpoint: string;
  readonly projectId: string;
  stop(): Promise<void>;
}

/**
 * The GCS JSON API of firebase-tools' storage emulator, in this process, on a free loopback port.
 * Its Java rules runtime is never started: we mount only the HTTP app, and the JSON API
 * (`/storage/v1`, `/upload/storage/v1`) goes through the admin storage layer, which consults no
 * rules. Buckets are implicit. It ignores `ifGenerationMatch`. The emulator registry is
 * process-wide, so one server per test file (vitest runs each file in its own fork).
 */
export const startGcsServer = async (): Promise<GcsTestServer> => {
  const { StorageEmulator, createApp, EmulatorRegistry } = load();
  const projectId = "atelier-test";
  const emulator = new StorageEmulator({ projectId, host: "127.0.0.1", port: 0, rules: [] });
  // The emulator keeps object bytes in one shared temp folder by default; give it its own.
  const directory = mkdtempSync(join(tmpdir(), "atelier-gcs-"));
  emulator._persistence.reset(directory);
  const app = await createApp(projectId, emulator);
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, "127.0.0.1", () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  const requests: RecordedRequest[] = [];
  server.on("request", (req) => requests.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers }));
  // Object metadata (self links) asks the registry where the emulator listens.
  emulator.args.port = port;
  EmulatorRegistry.set("storage", emulator);
  return {
    endpoint: `http://127.0.0.1:${port}`,
    projectId,
    requests,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(directory, { recursive: true, force: true });
    },
  };
};
