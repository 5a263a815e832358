/**
 * Browser tests and the viewer bench: Debian Chromium driven by playwright-core (STACK.md: never
 * `npx playwright install`), the web build (built once per process if missing or stale), and a
 * tiny static server for packages/web/dist when no gateway is needed.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type Page } from "playwright-core";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const webRoot = path.join(repoRoot, "packages/web");
export const distDir = path.join(webRoot, "dist");
export const artifactsDir = path.join(repoRoot, "test-artifacts");

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export const haveChromium = (): boolean => fs.existsSync(CHROMIUM);

export const launch = (): Promise<Browser> => chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });

const buildScript = path.join(webRoot, "scripts/build-if-stale.mjs");

/** Whether dist is missing or older than any source of the web package (or the code it bundles). */
export const webBuildStale = (): boolean => {
  try {
    execFileSync("node", [buildScript, "--check"], { stdio: "ignore" });
    return false;
  } catch {
    return true;
  }
};

/** Builds packages/web/dist when it is missing or stale (the same script as the root `prestart`). */
export const ensureWebBuild = (): void => {
  execFileSync("node", [buildScript], { stdio: "inherit" });
};

const TYPES: Record<string, string> = { ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".css": "text/css", ".json": "application/json", ".svg": "image/svg+xml", ".jsonl": "application/x-ndjson" };

/** Serves `dir` on a free loopback port (index.html for /). */
export const serveStatic = async (dir = distDir): Promise<{ url: string; close(): Promise<void> }> => {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    const rel = decodeURIComponent(url.pathname).replace(/^\/+/, "") || "index.html";
    const file = path.resolve(dir, rel);
    if (!file.startsWith(path.resolve(dir)) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) {
      res.writeHead(404).end("not found");
      return;
    }
    res.writeHead(200, { "content-type": TYPES[path.extname(file)] ?? "application/octet-stream", "cache-control": "no-store" });
    fs.createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
};

/** Saves a screenshot under test-artifacts/ and returns its path. */
export const screenshot = async (page: Page, name: string): Promise<string> => {
  fs.mkdirSync(artifactsDir, { recursive: true });
  const file = path.join(artifactsDir, `${name}.png`);
  await page.screenshot({ path: file, fullPage: false });
  return file;
};

/** Collects page errors and console errors so a test can assert there were none. */
export const watchErrors = (page: Page): string[] => {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(`console: ${m.text()}`);
  });
  return errors;
};
