/**
 * A real nats-server for tests and benches: JetStream on, bound to loopback on a free port, its
 * store in a temp folder. `kill()` is SIGKILL (a crash, not a shutdown); `restart()` brings it back
 * on the same port and store, which is what an outage test needs.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

/** The single-node config from nats/, so that tests exercise the file operators start from. */
export const singleNodeConfig: string = path.join(repoRoot, "nats", "nats-server.conf");

const BINARIES = ["/usr/sbin/nats-server", "/usr/bin/nats-server"];

export const natsServerBinary = (): string => {
  const found = BINARIES.find((b) => fs.existsSync(b));
  if (!found) throw new Error("nats-server is not installed (apt-get install -y nats-server)");
  return found;
};

export interface NatsServer {
  readonly url: string;
  readonly port: number;
  readonly storeDir: string;
  /** Whether the process is running. */
  running(): boolean;
  /** SIGKILL: no shutdown, whatever the server had not written is gone. */
  kill(): Promise<void>;
  /** Starts it again on the same port and store. */
  restart(): Promise<void>;
  /** Stops it (SIGTERM) and removes the store unless it was given. */
  stop(): Promise<void>;
}

export interface NatsServerOptions {
  /** Default: a free loopback port. */
  readonly port?: number;
  /** Default: a fresh temp folder, removed by `stop()`. */
  readonly storeDir?: string;
  /** Default: nats/nats-server.conf; its `listen` and `store_dir` are replaced by the above. */
  readonly config?: string;
  /** Other loopback ports of the config to move (the cluster's route ports). */
  readonly movePorts?: ReadonlyMap<number, number>;
}

/** A loopback port nobody listens on right now. */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });

const READY = "Server is ready";

/** Spawns the server and resolves once it logs that it is ready (JetStream recovered by then). */
const launch = (args: string[]): Promise<ChildProcess> =>
  new Promise((resolve, reject) => {
    const child = spawn(natsServerBinary(), args, { stdio: ["ignore", "ignore", "pipe"] });
    let log = "";
    const timer = setTimeout(() => fail(new Error(`nats-server did not start in 15 s:\n${log}`)), 15_000);
    const fail = (error: Error): void => {
      clearTimeout(timer);
      child.kill("SIGKILL");
      reject(error);
    };
    const onExit = (code: number | null): void => fail(new Error(`nats-server exited with ${code}:\n${log}`));
    child.stderr!.setEncoding("utf8");
    child.stderr!.on("data", (chunk: string) => {
      if (log.length < 64_000) log += chunk;
      if (log.includes(READY)) {
        clearTimeout(timer);
        child.removeListener("exit", onExit);
        child.stderr!.removeAllListeners("data");
        child.stderr!.resume(); // keep draining so the server never blocks on a full pipe
        resolve(child);
      }
    });
    child.once("exit", onExit);
  });

const exited = (child: ChildProcess): Promise<void> =>
  child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once("exit", () => resolve()));

export const startNatsServer = async (options: NatsServerOptions = {}): Promise<NatsServer> => {
  const port = options.port ?? (await freePort());
  const ownStore = options.storeDir === undefined;
  const storeDir = options.storeDir ?? fs.mkdtempSync(path.join(os.tmpdir(), "atelier-nats-"));
  fs.mkdirSync(storeDir, { recursive: true });
  // 2.9 refuses `-sd` next to a config's store_dir, so the test runs a copy with both replaced.
  const source = fs.readFileSync(options.config ?? singleNodeConfig, "utf8");
  const configFile = path.join(storeDir, "test-nats-server.conf");
  fs.writeFileSync(
    configFile,
    source
      .replace(/^\s*listen:.*$/m, `listen: 127.0.0.1:${port}`)
      .replace(/^(\s*)store_dir:.*$/m, `$1store_dir: ${JSON.stringify(path.join(storeDir, "js"))}`)
      .replace(/127\.0\.0\.1:(\d+)/g, (all, p: string) => `127.0.0.1:${options.movePorts?.get(Number(p)) ?? p}`),
  );
  const args = ["-c", configFile];
  let child: ChildProcess | undefined = await launch(args);
  // A test process that dies without stopping its server must not leave it running.
  const reap = (): void => void child?.kill("SIGKILL");
  process.once("exit", reap);
  const running = (): boolean => child !== undefined && child.exitCode === null && child.signalCode === null;
  const signal = async (sig: NodeJS.Signals): Promise<void> => {
    if (!child || !running()) return;
    const done = exited(child);
    child.kill(sig);
    await done;
    child = undefined;
  };
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir,
    running,
    kill: () => signal("SIGKILL"),
    async restart() {
      await signal("SIGKILL");
      child = await launch(args);
    },
    async stop() {
      process.removeListener("exit", reap);
      await signal("SIGTERM");
      if (ownStore) fs.rmSync(storeDir, { recursive: true, force: true });
    },
  };
};

export interface StoredEvent {
  readonly streamSeq: number;
  readonly line: string;
  readonly msgId: string;
  readonly segmentStart: boolean;
}

/** Every message on `subject`, in stream order, read with an ordered consumer. */
export const readSubject = async (nc: NatsConnection, stream: string, subject: string): Promise<StoredEvent[]> => {
  const jsm = await jetstreamManager(nc);
  const last = await jsm.streams.getMessage(stream, { last_by_subj: subject });
  if (!last) return [];
  const consumer = await jetstream(nc).consumers.get(stream, { filter_subjects: subject });
  const messages = await consumer.consume({ max_messages: 1024 });
  const events: StoredEvent[] = [];
  for await (const m of messages) {
    events.push({ streamSeq: m.seq, line: m.string(), msgId: m.headers?.get("Nats-Msg-Id") ?? "", segmentStart: m.headers?.get("Atelier-Segment") === "start" });
    if (m.seq >= last.seq) break;
  }
  await messages.close();
  return events;
};

export interface NatsCluster {
  /** All three client URLs, comma-separated, as `--nats` takes them. */
  readonly url: string;
  readonly nodes: readonly NatsServer[];
  stop(): Promise<void>;
}

/**
 * The 3-node cluster of nats/cluster/, on free loopback ports (client and route ports both moved)
 * with temp stores. Nodes are ready one by one; JetStream needs a moment more to elect a leader.
 */
export const startNatsCluster = async (): Promise<NatsCluster> => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "atelier-nats-cluster-"));
  const movePorts = new Map<number, number>();
  for (const configured of [4222, 4223, 4224, 6222, 6223, 6224]) movePorts.set(configured, await freePort());
  const nodes = await Promise.all(
    [1, 2, 3].map((i) =>
      startNatsServer({ port: movePorts.get(4221 + i)!, storeDir: path.join(root, `n${i}`), config: path.join(repoRoot, "nats", "cluster", `node-${i}.conf`), movePorts }),
    ),
  );
  return {
    url: nodes.map((n) => n.url).join(","),
    nodes,
    async stop() {
      await Promise.all(nodes.map((n) => n.stop()));
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
};
