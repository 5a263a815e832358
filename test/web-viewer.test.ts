/**
 * The timeline replay viewer in Chromium against the production build on a static server: open a
 * simulator-style timeline file (envelopes + marker lines + a garbage line), scrub back and see
 * the earlier lock state — checked against the same fold computed in Node — step with the arrow
 * keys, play with space, filter, and lay out on a laptop and a narrow window.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateTimeline, Replay, toJsonl, viewAt, type Env } from "../packages/web/src/model/index.ts";
import { artifactsDir, ensureWebBuild, haveChromium, launch, screenshot, serveStatic, watchErrors } from "./helpers/browser.ts";

interface Hooks {
  loads: number;
  seq(): number;
  seek(seq: number): number;
  session: { indexed(): number; replay: { events: unknown[] } };
}
declare const window: { __atelier: Hooks };
declare const document: { documentElement: { scrollWidth: number; clientWidth: number } };

const EVENTS = 4000;

/** The lock badges shown in the file tree: path → "mode holders +waiters". */
const badges = (page: Page) =>
  page.$$eval("[data-testid=lock-badge]", (els) =>
    Object.fromEntries(els.map((e) => [e.getAttribute("data-path")!, `${e.getAttribute("data-mode")} ${e.getAttribute("data-holder")} +${e.getAttribute("data-waiters")}`])),
  );

/** The same, computed in Node from the same envelopes through the same fold. */
const expected = (events: readonly Env[], seq: number) => {
  const r = new Replay();
  r.append(events);
  const v = viewAt(r, seq);
  return Object.fromEntries(v.locks.filter((l) => l.holders.length > 0 || l.waiters.length > 0).map((l) => [l.path, `${l.state} ${l.holders.map((h) => h.agent).join(",")} +${l.waiters.length}`]));
};

describe.skipIf(!haveChromium())("web: timeline replay viewer (Chromium)", () => {
  let browser: Browser;
  let server: Awaited<ReturnType<typeof serveStatic>>;
  let file: string;
  let events: Env[];
  let markers: number;

  beforeAll(async () => {
    ensureWebBuild();
    events = generateTimeline({ events: EVENTS, seed: 7 });
    markers = 1 + Math.floor(events.length / 500);
    fs.mkdirSync(artifactsDir, { recursive: true });
    file = path.join(artifactsDir, "sim-timeline.jsonl");
    // Simulator output: envelopes, marker lines every 500 events, and one unreadable line.
    fs.writeFileSync(file, toJsonl(events, 500) + "not json at all\n");
    server = await serveStatic();
    browser = await launch();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it("opens a simulator timeline file, scrubs back to an earlier lock state, steps and plays", async () => {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    const errors = watchErrors(page);
    await page.goto(`${server.url}#/viewer`);
    await page.setInputFiles("[data-testid=file-input]", file);
    await page.waitForFunction(() => window.__atelier.loads > 0);
    await expect.poll(() => page.textContent("[data-testid=viewer-status]")).toContain(`${events.length.toLocaleString("en-US")} events, ${markers} markers, 1 unreadable line`);
    await page.waitForFunction((n) => window.__atelier.session.indexed() >= n, events.length);
    expect(await page.textContent("[data-testid=markers]")).toContain(`${markers} sim markers`);

    // Scrub to the end: the badges equal the Node fold at the head.
    const head = events.at(-1)!.seq;
    await page.fill("[data-testid=scrubber]", String(head));
    expect(await page.evaluate(() => window.__atelier.seq())).toBe(head);
    expect(await badges(page)).toEqual(expected(events, head));
    await screenshot(page, "viewer-laptop-head");

    // Scrub back to a moment where a file was held exclusively and another agent waited for it.
    const contended = events.find((e, i) => e.type === "lock.queued" && i > EVENTS / 2)!;
    const path = (contended.payload as { path: string }).path;
    await page.fill("[data-testid=scrubber]", String(contended.seq));
    expect(await page.evaluate(() => window.__atelier.seq())).toBe(contended.seq);
    const then = await badges(page);
    expect(then).toEqual(expected(events, contended.seq));
    expect(then[path]).toMatch(/\+1$|\+[2-9]$/);
    expect(await page.textContent("[data-testid=seq]")).toContain(`#${contended.seq} /`);
    await screenshot(page, "viewer-laptop-scrubbed-back");

    // Arrow keys step one event (focus on the page, not a text field); Shift steps ten.
    await page.click("h2 >> text=Agents");
    await page.keyboard.press("ArrowLeft");
    expect(await page.evaluate(() => window.__atelier.seq())).toBe(contended.seq - 1);
    await page.keyboard.press("ArrowRight");
    await page.keyboard.press("ArrowRight");
    expect(await page.evaluate(() => window.__atelier.seq())).toBe(contended.seq + 1);
    expect(await badges(page)).toEqual(expected(events, contended.seq + 1));

    // Space plays (at 100x the cursor moves), space again pauses.
    await page.selectOption("[data-testid=speed]", "100");
    await page.click("h2 >> text=Agents");
    const before = await page.evaluate(() => window.__atelier.seq());
    await page.keyboard.press(" ");
    await expect.poll(() => page.evaluate(() => window.__atelier.seq()), { timeout: 5000 }).toBeGreaterThan(before + 5);
    await page.keyboard.press(" ");
    const paused = await page.evaluate(() => window.__atelier.seq());
    await page.waitForTimeout(300);
    expect(await page.evaluate(() => window.__atelier.seq())).toBe(paused);

    // Filter by agent: stepping skips other agents' events.
    await page.click("[data-testid=filter-agent][data-agent=gemini]");
    await page.click("h2 >> text=Agents");
    await page.keyboard.press("ArrowRight");
    const landed = await page.evaluate(() => window.__atelier.seq());
    const e = events.find((x) => x.seq === landed)!;
    expect(JSON.stringify(e)).toContain("gemini");
    await screenshot(page, "viewer-laptop-filtered");
    expect(errors).toEqual([]);
    await page.close();
  });

  it("lays out in a narrow window", async () => {
    const page = await browser.newPage({ viewport: { width: 420, height: 900 } });
    const errors = watchErrors(page);
    await page.goto(`${server.url}#/viewer`);
    await page.setInputFiles("[data-testid=file-input]", file);
    await page.waitForFunction(() => window.__atelier.loads > 0);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await screenshot(page, "viewer-narrow");
    await page.screenshot({ path: path.join(artifactsDir, "viewer-narrow-full.png"), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });
});
