import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Hono } from "hono";
import { serveStatic } from "@hono/node-server/serve-static";

/** Where the web package's `vite build` writes. */
export const defaultWebDist = (): string => resolve(fileURLToPath(import.meta.url), "../../../../web/dist");

const PLACEHOLDER = `<!doctype html><meta charset="utf-8"><title>Atelier</title>
<p>The Atelier API is up at <code>/api/v2</code>. The web studio is not built yet:
run <code>npm run build -w @atelier/web</code> and restart.</p>`;

/**
 * The studio: static files from the web build, and `index.html` for any other GET outside the
 * API (client-side routes, `/?token=`). Without a build, a page that says how to make one.
 */
export const webRoutes = (dist: string | null): Hono => {
  const app = new Hono();
  if (dist === null || !existsSync(join(dist, "index.html"))) {
    app.get("*", (c) => (c.req.path.startsWith("/api/") ? c.notFound() : c.html(PLACEHOLDER)));
    return app;
  }
  app.use("*", serveStatic({ root: dist }));
  app.get("*", (c, next) => (c.req.path.startsWith("/api/") ? next() : serveStatic({ root: dist, path: "index.html" })(c, next)));
  return app;
};
