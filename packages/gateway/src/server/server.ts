import type { AddressInfo } from "node:net";
import { serve, type ServerType } from "@hono/node-server";
import { createApp } from "../routes/app.ts";
import { Gateway, type GatewayOptions } from "./gateway.ts";
import { defaultWebDist, webRoutes } from "./web.ts";

export interface ServerOptions extends GatewayOptions {
  readonly host?: string;
  /** 0 picks a free port. */
  readonly port?: number;
  /** The web build to serve (default packages/web/dist; null serves none). */
  readonly webDist?: string | null;
}

export interface RunningServer {
  readonly gateway: Gateway;
  /** `http://host:port` */
  readonly url: string;
  readonly port: number;
  /** Stops accepting, closes every socket and workspace (final snapshots), then the catalogue. */
  close(): Promise<void>;
}

/** Opens the gateway over `dataDir` and serves it on host:port; its workspaces open once it listens (`gateway.ready`). */
export const startServer = async (options: ServerOptions): Promise<RunningServer> => {
  const gateway = await Gateway.open(options);
  const { app, injectWebSocket, wss } = createApp(gateway, webRoutes(options.webDist === undefined ? defaultWebDist() : options.webDist));
  const host = options.host ?? "127.0.0.1";
  const server: ServerType = await new Promise((resolve, reject) => {
    const s = serve({ fetch: app.fetch, hostname: host, port: options.port ?? 7070 }, () => resolve(s));
    s.once("error", reject);
  });
  injectWebSocket(server as Parameters<typeof injectWebSocket>[0]);
  const port = (server.address() as AddressInfo).port;
  void gateway.openInBackground();
  let closing: Promise<void> | undefined;
  return {
    gateway,
    port,
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
    close: () =>
      (closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        await gateway.close();
        for (const client of wss.clients) client.terminate();
        (server as { closeAllConnections?: () => void }).closeAllConnections?.();
        await closed;
      })()),
  };
};
