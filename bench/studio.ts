/**
 * `npm run bench -- studio`: the studio in Chromium opening a long live workspace from a started
 * gateway. The workspace has EVENTS events written through the runtime (so its snapshots are the
 * ones a server keeps). Rows: opening it (recent history from the stored snapshot near its last
 * 50k events; target ≤ 5 s), then "Load all" (every event). The raw limit of each is fetching the
 * same pages over HTTP and parsing them in Node, with no fold and no page, in the same run.
 */
import { performance } from "node:perf_hooks";
import { startServer } from "@atelier/gateway";
import { distDir, ensureWebBuild, haveChromium, launch, CHROMIUM } from "../test/helpers/browser.ts";
import { fmtMs, report, removeDir, scratchDir, type Row } from "./raw.ts";

const EVENTS = Number(process.env.ATELIER_BENCH_EVENTS ?? 150_000);
const PAGE = 999;

interface Hooks {
  session: { loading(): unknown; replay: { headSeq: number; baseSeq: number; events: unknown[] } };
}
declare const window: { __atelier: Hooks };

/** Every /events page from `from` to the head, as the studio pages them: the network and JSON floor. */
const fetchPages = async (base: string, token: string, from: number): Promise<number> => {
  let events = 0;
  for (let next: number | null = from; next !== null; ) {
    const page = (await (await fetch(`${base}/events?from=${next}&limit=${PAGE}`, { headers: { authorization: `Bearer ${token}` } })).json()) as { items: unknown[]; next: number | null };
    events += page.items.length;
    next = page.next;
  }
  return events;
};

export async function run(): Promise<void> {
  if (!haveChromium()) throw new Error(`no Chromium at ${CHROMIUM} (apt-get install -y chromium)`);
  ensureWebBuild();
  const data = scratchDir("bench-studio");
  const server = await startServer({ dataDir: data, host: "127.0.0.1", port: 0, webDist: distDir, fsync: "none", log: () => undefined });
  const browser = await launch();
  try {
    const token = server.gateway.tokens.create("owner", "bench").token;
    const { host } = await server.gateway.createWorkspace({ name: "long", agents: [{ agentId: "claude", vendor: "claude", model: "opus" }] });
    while (host.head < EVENTS) {
      await Promise.all(Array.from({ length: 100 }, (_, i) => host.ws.context.set(`k${(host.head + i) % 500}`, { at: host.head }, "bench")));
      // With fsync none the appends resolve without I/O: yield, as a server between requests does, so snapshot writes run.
      await new Promise((resolve) => setImmediate(resolve));
    }
    await host.ws.settled();
    // As on a server that has been running: the snapshots its appends asked for are written.
    await host.ws.snapshot();
    const head = host.head;
    const base = host.ws.snapshotNear(head - 50_000)?.seq ?? 0;
    const api = `${server.url}/api/v2/workspaces/${host.id}`;

    let t = performance.now();
    const rawRecent = await fetchPages(api, token, base + 1);
    const rawRecentMs = performance.now() - t;
    t = performance.now();
    const rawAll = await fetchPages(api, token, 1);
    const rawAllMs = performance.now() - t;

    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    const loaded = (n: number) =>
      page.waitForFunction((count) => window.__atelier?.session?.loading() === null && window.__atelier.session.replay.events.length === count, n, { timeout: 300_000 });
    t = performance.now();
    await page.goto(`${server.url}/?token=${token}#/ws/${host.id}`);
    await loaded(head - base);
    const openMs = performance.now() - t;
    const shown = await page.evaluate(() => window.__atelier.session.replay.baseSeq);
    if (shown !== base) throw new Error(`the studio started at ${shown}, not at the snapshot ${base}`);
    const heapOpen = (await page.evaluate(() => (performance as unknown as { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? 0)) / 2 ** 20;

    t = performance.now();
    await page.click("[data-testid=load-all]");
    await loaded(head);
    const allMs = performance.now() - t;
    const heapAll = (await page.evaluate(() => (performance as unknown as { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? 0)) / 2 ** 20;

    const rows: Row[] = [
      {
        metric: `open a ${(head / 1000).toFixed(0)}k-event workspace: history from the snapshot at #${base.toLocaleString("en")} (${(head - base).toLocaleString("en")} events) on screen`,
        measured: `${fmtMs(openMs)} (heap ${heapOpen.toFixed(0)} MiB)`,
        raw: `fetch + parse ${rawRecent.toLocaleString("en")} events ${fmtMs(rawRecentMs)}`,
        ratio: rawRecentMs / openMs,
        target: "≤ 5 s",
        pass: openMs <= 5000,
      },
      {
        metric: `Load all: every event (${head.toLocaleString("en")})`,
        measured: `${fmtMs(allMs)} (heap ${heapAll.toFixed(0)} MiB)`,
        raw: `fetch + parse ${rawAll.toLocaleString("en")} events ${fmtMs(rawAllMs)}`,
        ratio: rawAllMs / allMs,
      },
    ];
    report("studio", rows, [`Chromium ${browser.version()}; the workspace's events were written through the runtime (fsync none)`]);
  } finally {
    await browser.close();
    await server.close();
    removeDir(data);
  }
}
