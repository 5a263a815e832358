/**
 * `npm run bench -- viewer`: the timeline replay viewer in Chromium (production build, static
 * server). Opens a 100k-event timeline file through the file input and seeks to 20 random
 * positions. Rows: load (file chosen → panels, lanes and plots on screen; target ≤ 1 s), the
 * background fold that builds every seek checkpoint, seek p95 once indexed (target ≤ 50 ms),
 * seeks issued during indexing, and seek-to-painted-frame. The raw limits are JSON.parse of the
 * same text and the same fold through the same machines in Node, measured in this run.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { generateTimeline, parseTimeline, prng, Replay, toJsonl } from "../packages/web/src/model/index.ts";
import { ensureWebBuild, haveChromium, launch, serveStatic, CHROMIUM } from "../test/helpers/browser.ts";
import { fmtMs, percentile, report, scratchRoot, type Row } from "./raw.ts";

const EVENTS = 100_000;
const SEEKS = 20;

interface Hooks {
  loads: number;
  indexedMs?: number;
  lastLoad?: { events: number; readMs: number; parseMs: number; foldMs: number; renderMs: number; totalMs: number };
  seek(seq: number): number;
  seekPainted(seq: number): Promise<number>;
  session: { indexed(): number };
}
declare const window: { __atelier: Hooks };

const timelineFile = (): string => {
  fs.mkdirSync(scratchRoot, { recursive: true });
  const file = path.join(scratchRoot, `viewer-${EVENTS}-v1.jsonl`);
  if (!fs.existsSync(file)) fs.writeFileSync(file, toJsonl(generateTimeline({ events: EVENTS, seed: 42 }), 1000));
  return file;
};

export async function run(): Promise<void> {
  if (!haveChromium()) throw new Error(`no Chromium at ${CHROMIUM} (apt-get install -y chromium)`);
  ensureWebBuild();
  const file = timelineFile();
  const text = fs.readFileSync(file, "utf8");

  // Raw limits in Node, same run: one JSON.parse of the text, and the fold through the machines.
  let t = performance.now();
  const parsed = parseTimeline(text);
  const rawParseMs = performance.now() - t;
  t = performance.now();
  new Replay().append(parsed.events);
  const rawFoldMs = performance.now() - t;

  const server = await serveStatic();
  const browser = await launch();
  try {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    await page.goto(`${server.url}#/viewer`);
    await page.setInputFiles("[data-testid=file-input]", file);
    await page.waitForFunction(() => window.__atelier.loads > 0, null, { timeout: 60_000 });
    const load = (await page.evaluate(() => window.__atelier.lastLoad))!;
    if (load.events < EVENTS) throw new Error(`the viewer loaded ${load.events} events`);

    // Seeks right away, while the background fold is still building checkpoints.
    const rnd = prng(7);
    const positions = Array.from({ length: SEEKS }, () => 1 + Math.floor(rnd() * load.events));
    const cold: number[] = [];
    for (const seq of positions.slice(0, 5)) cold.push(await page.evaluate((s) => window.__atelier.seek(s), seq));

    await page.waitForFunction((n) => window.__atelier.session.indexed() >= n, load.events, { timeout: 120_000 });
    const indexedMs = (await page.evaluate(() => window.__atelier.indexedMs)) ?? Number.NaN;

    const seeks: number[] = [];
    for (const seq of positions) seeks.push(await page.evaluate((s) => window.__atelier.seek(s), seq));
    const painted: number[] = [];
    for (const seq of positions) painted.push(await page.evaluate((s) => window.__atelier.seekPainted(s), seq));
    const p95 = percentile(seeks, 95);

    const rows: Row[] = [
      {
        metric: `load ${load.events / 1000}k events: file → panels + lanes on screen`,
        measured: fmtMs(load.totalMs),
        raw: `Node JSON.parse ${fmtMs(rawParseMs)}`,
        target: "≤ 1 s",
        pass: load.totalMs <= 1000,
      },
      { metric: "  of which read / parse / index lanes+chat+plots / first render", measured: `${load.readMs.toFixed(0)} / ${load.parseMs.toFixed(0)} / ${load.foldMs.toFixed(0)} / ${load.renderMs.toFixed(0)} ms` },
      { metric: "background fold through the machines: all checkpoints built", measured: fmtMs(indexedMs), raw: `Node fold ${fmtMs(rawFoldMs)}`, ratio: rawFoldMs / indexedMs },
      { metric: `seek p95, ${SEEKS} random positions (indexed; sync fold + DOM)`, measured: fmtMs(p95), target: "≤ 50 ms", pass: p95 <= 50 },
      { metric: "  seek p50 / max", measured: `${fmtMs(percentile(seeks, 50))} / ${fmtMs(Math.max(...seeks))}` },
      { metric: "seek → next painted frame p95", measured: fmtMs(percentile(painted, 95)) },
      { metric: "seek max during background indexing (first 5 seeks)", measured: fmtMs(Math.max(...cold)) },
    ];
    report("viewer", rows, [`${parsed.events.length} envelopes + ${parsed.markers.length} simulator marker lines, ${(text.length / 1e6).toFixed(1)} MB, Chromium ${browser.version()}`]);
  } finally {
    await browser.close();
    await server.close();
  }
}
