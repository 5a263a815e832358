/**
 * The studio in Chromium against a started gateway serving the production build: create a
 * workspace in the UI, send a prompt to an agent driven by the scripted runner and see it pending
 * (no runner yet), then streaming, then answered with attribution; see a lock badge appear and
 * vanish in the file tree; scrub the timeline back and see the earlier lock state.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type RunningServer } from "@atelier/gateway";
import { RunnerClient, scriptedHandler } from "@atelier/gateway/runner";
import { fillableDisk } from "../packages/gateway/test/support/disk.ts";
import { distDir, ensureWebBuild, haveChromium, launch, screenshot, watchErrors } from "./helpers/browser.ts";

interface Hooks {
  seq(): number;
  session: {
    replay: {
      baseSeq: number;
      events: { seq: number; type: string; payload: unknown }[];
      derived: { lockWaits: { agent: string; path: string; blockers: string[] }[]; usage: Map<string, { tokens: number }[]> };
    };
  };
}
declare const window: { __atelier: Hooks };

const lockSeqs = (page: Page, file: string) =>
  page.evaluate(
    (f) =>
      window.__atelier.session.replay.events
        .filter((e) => e.type.startsWith("lock.") && (e.payload as { path?: string }).path === f)
        .map((e) => ({ seq: e.seq, type: e.type })),
    file,
  );

describe.skipIf(!haveChromium())("web: studio against a started gateway (Chromium)", () => {
  let browser: Browser;
  let server: RunningServer;
  let dataDir: string;
  let token: string;
  const runners: RunnerClient[] = [];

  beforeAll(async () => {
    ensureWebBuild();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "atelier-web-"));
    server = await startServer({ dataDir, host: "127.0.0.1", port: 0, webDist: distDir, log: () => undefined });
    token = server.gateway.tokens.create("owner", "ada").token;
    browser = await launch();
  }, 120_000);

  afterAll(async () => {
    await Promise.all(runners.map((r) => r.close()));
    await browser?.close();
    await server?.close();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it("creates a workspace, prompts a scripted agent (pending → streaming → answered), shows locks, scrubs back", async () => {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    const errors = watchErrors(page);
    await page.goto(`${server.url}/?token=${token}`);
    // the token moved from the URL into sessionStorage
    await expect.poll(() => page.url()).not.toContain("token=");

    // Create: one agent, claude (its scripted part locks src/auth.ts then src/session.ts).
    await page.fill("[data-testid=ws-name]", "web test");
    await page.click("[data-testid=create]");
    await page.waitForURL(/#\/ws\/ws_/);
    const id = decodeURIComponent(/#\/ws\/([^/?]+)/.exec(page.url())![1]!);
    await expect.poll(() => page.textContent("[data-testid=ws-status]")).toBe("active");
    await page.waitForSelector("[data-testid=runner-tokens]");
    await page.waitForSelector("[data-testid=agent-badge][data-agent=claude][data-status=offline]");

    // No runner yet: the prompt waits, pending, first in claude's queue.
    await page.fill("[data-testid=composer]", "Refactor the auth module");
    await page.click("[data-testid=send]");
    const newest = page.locator("[data-testid=chat-item][data-agent=claude]").first();
    await expect.poll(() => newest.getAttribute("data-status")).toBe("queued");
    const item = page.locator(`[data-testid=chat-item][data-prompt="${await newest.getAttribute("data-prompt")}"]`);
    expect(await item.locator("[data-testid=pending]").textContent()).toContain("#1 in claude's queue");
    expect(await page.textContent("[data-testid=agent-badge][data-agent=claude] [data-testid=queue-depth]")).toContain("queue 1");
    await screenshot(page, "studio-pending");

    // A second prompt waits behind it; its cancel button takes it out of the queue.
    await page.fill("[data-testid=composer]", "Never mind this one");
    await page.click("[data-testid=send]");
    const second = page.locator("[data-testid=chat-item]", { hasText: "Never mind this one" });
    await expect.poll(() => second.getAttribute("data-status")).toBe("queued");
    await second.locator("[data-testid=pending] button", { hasText: "cancel" }).click();
    await expect.poll(() => second.getAttribute("data-status")).toBe("cancelled");
    expect(await second.locator("[data-testid=answer] .text").textContent()).toBe("cancelled by a user");
    await screenshot(page, "studio-cancelled");
    await expect.poll(() => page.textContent("[data-testid=agent-badge][data-agent=claude] [data-testid=queue-depth]")).toContain("queue 1");

    // The scripted runner connects: streaming, a lock badge on src/auth.ts, then the answer.
    const runnerToken = server.gateway.runnerTokens.issue(id, "claude");
    runners.push(new RunnerClient({ url: server.url, workspace: id, agent: "claude", token: runnerToken }, scriptedHandler("claude", 900)));
    await expect.poll(() => item.getAttribute("data-status"), { timeout: 15_000 }).toBe("processing");
    await page.waitForSelector("[data-testid=streaming] [data-testid=stream-text]:has-text('Plan for')", { timeout: 10_000 });
    const badge = page.locator("[data-testid=lock-badge][data-path='src/auth.ts']");
    await badge.waitFor({ timeout: 10_000 });
    expect(await badge.getAttribute("data-mode")).toBe("exclusive");
    expect(await badge.getAttribute("data-holder")).toBe("claude");
    await screenshot(page, "studio-streaming-lock");
    await badge.waitFor({ state: "detached", timeout: 10_000 });

    await expect.poll(() => item.getAttribute("data-status"), { timeout: 20_000 }).toBe("completed");
    const answer = item.locator("[data-testid=answer]");
    expect(await answer.textContent()).toContain("claude: done");
    // attribution: agent name in its colour, vendor chip, model
    expect(await answer.locator(".agent-name[data-agent=claude]").count()).toBeGreaterThan(0);
    expect(await answer.locator(".chip.vendor").textContent()).toBe("Claude");
    expect(await answer.textContent()).toContain("claude-opus-4");
    await expect.poll(() => page.locator("[data-testid=lock-badge]").count()).toBe(0);
    await screenshot(page, "studio-answered");

    // Scrub back to when claude held src/auth.ts: the badge is back, as it was.
    const seqs = await lockSeqs(page, "src/auth.ts");
    const acquired = seqs.find((s) => s.type === "lock.acquired")!;
    expect(acquired).toBeDefined();
    await page.fill("[data-testid=scrubber]", String(acquired.seq));
    expect(await page.evaluate(() => window.__atelier.seq())).toBe(acquired.seq);
    await badge.waitFor();
    expect(await badge.getAttribute("data-holder")).toBe("claude");
    expect(await item.getAttribute("data-status")).toBe("processing");
    await screenshot(page, "studio-scrubbed-back");
    // Nothing is sent from the past, and the box says why.
    expect(await page.isDisabled("[data-testid=composer]")).toBe(true);
    expect(await page.getAttribute("[data-testid=composer]", "placeholder")).toBe("Viewing the past: press ● live to send.");
    // and back to live
    await page.click("[data-testid=follow]");
    await expect.poll(() => page.isDisabled("[data-testid=composer]")).toBe(false);
    await expect.poll(() => page.locator("[data-testid=lock-badge]").count()).toBe(0);

    expect(errors).toEqual([]);
    await page.close();
  }, 90_000);

  it("shows one prompt sent to all agents side by side (status, time to answer, tokens, cost, the best marked); hibernating clears who is here; opened while hibernated it offers to resume", async () => {
    const agents = [
      { agentId: "claude", vendor: "claude", model: "claude-opus-4" },
      { agentId: "gemini", vendor: "gemini", model: "gemini-2.5-pro" },
    ] as const;
    const { host } = await server.gateway.createWorkspace({ name: "side by side", agents });
    for (const a of agents) {
      runners.push(new RunnerClient({ url: server.url, workspace: host.id, agent: a.agentId, token: server.gateway.runnerTokens.issue(host.id, a.agentId) }, scriptedHandler(a.agentId, 200)));
    }
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    const errors = watchErrors(page);
    // The home list says what each workspace holds, under its name (read once, so once both runners are on),
    // the live ones first and the terminated last.
    const ended = await server.gateway.createWorkspace({ name: "ended", agents: [agents[0]] });
    await ended.host.ws.lifecycle.terminate("ada");
    await expect.poll(() => host.ws.runners.connected().size, { timeout: 15_000 }).toBe(2);
    await page.goto(`${server.url}/?token=${token}`);
    await page.waitForSelector(`[data-testid=ws-item][data-ws=${ended.host.id}]`);
    const order = await page.locator("[data-testid=ws-item]").evaluateAll((items) => items.map((i) => i.getAttribute("data-ws")));
    expect(order[0]).toBe(host.id);
    expect(order.at(-1)).toBe(ended.host.id);
    const line = page.locator(`[data-testid=ws-item][data-ws=${host.id}] [data-testid=ws-summary]`);
    await expect.poll(() => line.textContent(), { timeout: 15_000 }).toBe("2 agents (2 online) · active just now");
    expect(await page.locator(`[data-testid=ws-item][data-ws=${ended.host.id}] [data-testid=ws-summary]`).textContent()).toBe("1 agent · terminated just now");
    await page.click(`[data-testid=ws-item][data-ws=${host.id}] a`);
    await page.waitForSelector("[data-testid=agent-badge][data-agent=gemini][data-status=idle]", { timeout: 15_000 });

    await page.click("button.target.all");
    await page.fill("[data-testid=composer]", "Compare: split login()");
    await page.click("[data-testid=send]");
    const table = page.locator("[data-testid=side-by-side]").first();
    for (const a of agents) {
      await expect.poll(() => table.locator(`tr[data-agent=${a.agentId}] .status`).textContent(), { timeout: 20_000 }).toBe("completed");
    }
    expect(await table.textContent()).toContain("Compare: split login()");
    // Each measure marks its lowest value among the answered agents.
    for (const measure of ["answeredInMs", "tokens", "cost"]) {
      expect(await table.locator(`td.best[data-measure=${measure}]`).count()).toBeGreaterThanOrEqual(1);
    }
    await screenshot(page, "studio-side-by-side");

    // Hibernating closes the live socket: the people shown as here are cleared with it, not left as if still present.
    const people = page.locator("[data-testid=presence] .avatar");
    await expect.poll(() => people.count()).toBe(1);
    await page.click("button:has-text('Hibernate')");
    await expect.poll(() => page.textContent("[data-testid=ws-status]"), { timeout: 20_000 }).toBe("hibernated");
    await expect.poll(() => people.count()).toBe(0);

    // Opened afresh while in the archive, the page offers to resume it; resuming opens its studio as it was.
    // Opened while the archive is still being written, it says so and follows it until it is done. The
    // upload is too quick to catch here, so the page's first status answer is rewritten to the catalogue's
    // line during it (state hibernating, no archive id yet); the answers after it are the gateway's own.
    let rewrite = true;
    const statusUrl = `**/api/v2/workspaces/${host.id}/status`;
    await page.route(statusUrl, async (route) => {
      const response = await route.fetch();
      const body = await response.json();
      if (rewrite) body.workspace = { ...body.workspace, state: "hibernating", archive: { ...body.workspace.archive, archiveId: "" } };
      rewrite = false;
      await route.fulfill({ response, json: body });
    });
    await page.goto("about:blank");
    await page.goto(`${server.url}/#/ws/${host.id}`);
    const asleep = page.locator("[data-testid=asleep]");
    await asleep.waitFor({ timeout: 15_000 });
    expect(await asleep.locator("[data-testid=archiving]").textContent()).toContain("Being written to the archive");
    expect(await asleep.textContent()).not.toContain("In the archive since");
    await expect.poll(() => asleep.locator("span.status").textContent(), { timeout: 5_000 }).toBe("hibernated");
    expect(await asleep.textContent()).toMatch(/In the archive since just now \(local:.*, [0-9TZ-]+\)/);
    expect(await asleep.locator("[data-testid=archiving]").count()).toBe(0);
    await page.unroute(statusUrl);
    await screenshot(page, "studio-asleep");
    await page.click("[data-testid=resume]");
    await expect.poll(() => page.textContent("[data-testid=ws-status]"), { timeout: 20_000 }).toBe("active");
    await expect.poll(() => page.locator("[data-testid=side-by-side]").count()).toBe(1);
    expect(await asleep.count()).toBe(0);

    // In the archive again, it can be terminated from the same card (after a confirmation): it is restored to
    // record its end, and its studio opens, terminated.
    await (await server.gateway.host(host.id)).ws.lifecycle.hibernate("ada");
    await expect.poll(() => server.gateway.hibernated(host.id)?.state, { timeout: 20_000 }).toBe("hibernated");
    await page.goto("about:blank");
    await page.goto(`${server.url}/#/ws/${host.id}`);
    await asleep.waitFor({ timeout: 15_000 });
    const asked: string[] = [];
    page.once("dialog", (d) => {
      asked.push(d.message());
      void d.accept();
    });
    await asleep.locator("[data-testid=terminate]").click();
    await expect.poll(() => page.textContent("[data-testid=ws-status]"), { timeout: 20_000 }).toBe("terminated");
    expect(asked).toEqual(["Terminate this workspace? Agents stop and it takes no more prompts."]);
    expect(await asleep.count()).toBe(0);
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it("a workspace in error says why and offers Restart (and Terminate); Restart makes it active", async () => {
    const { host } = await server.gateway.createWorkspace({ name: "broken", agents: [{ agentId: "claude", vendor: "claude", model: "opus" }] });
    // The runtime's own failure report, as a hibernation whose snapshot could not be stored makes it.
    await host.ws.lifecycle.fail("hibernation failed: the store is down");
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    const errors = watchErrors(page);
    await page.goto(`${server.url}/?token=${token}`);
    await page.goto(`${server.url}/#/ws/${host.id}`);
    await expect.poll(() => page.textContent("[data-testid=ws-status]")).toBe("error");
    expect(await page.textContent("[data-testid=ws-error]")).toBe("hibernation failed: the store is down");
    expect(await page.locator("[data-testid=terminate]").count()).toBe(1);
    expect(await page.locator("[data-testid=hibernate]").count()).toBe(0);
    await screenshot(page, "studio-error-restart");
    await page.click("[data-testid=restart]");
    await expect.poll(() => page.textContent("[data-testid=ws-status]")).toBe("active");
    expect(await page.locator("[data-testid=ws-error]").count()).toBe(0);
    expect(await page.locator("[data-testid=restart]").count()).toBe(0);
    expect(host.ws.status()).toBe("active");
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it("a long history starts at a stored snapshot near its recent events, with the head's state; Load all loads the rest", async () => {
    const { host } = await server.gateway.createWorkspace({
      name: "long",
      agents: [
        { agentId: "claude", vendor: "claude", model: "opus" },
        { agentId: "gemini", vendor: "gemini", model: "pro" },
      ],
    });
    // Before the snapshot: claude answers a prompt (150 tokens) and takes a lock; a prompt waits for gemini.
    const runner = await host.ws.runners.connect("claude", { dispatch: () => undefined, abort: () => undefined, close: () => undefined });
    const first = await host.ws.prompts.enqueue("claude", { text: "before the snapshot", author: "ada" });
    await runner.complete(first.promptId, { result: "done", tokensIn: 100, tokensOut: 50, cost: 0.01 });
    await host.ws.locks.acquire("src/early.ts", "claude", "exclusive");
    await host.ws.prompts.enqueue("gemini", { text: "queued before the snapshot", author: "ada" });
    for (let i = 0; i < 20; i++) await host.ws.context.set(`early${i}`, i, "ada");
    await host.ws.snapshot();
    const base = host.head;
    // After it: gemini waits for claude's lock, claude answers again (15 tokens), a prompt waits for gemini.
    const waited = host.ws.locks.acquire("src/early.ts", "gemini", "exclusive", { wait: true });
    for (let i = 0; i < 60; i++) await host.ws.context.set(`later${i}`, i, "ada");
    await host.ws.locks.release("src/early.ts", "claude");
    await waited;
    const second = await host.ws.prompts.enqueue("claude", { text: "later", author: "ada" });
    await runner.complete(second.promptId, { result: "done", tokensIn: 10, tokensOut: 5, cost: 0.001 });
    await host.ws.prompts.enqueue("gemini", { text: "after the snapshot", author: "ada" });
    const head = host.head;

    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    const errors = watchErrors(page);
    await page.goto(`${server.url}/?token=${token}#/ws/${host.id}?history=50`);
    const note = page.locator("[data-testid=partial-history]");
    await note.waitFor();
    expect(await note.textContent()).toContain(`#${base.toLocaleString("en")}`);
    const loaded = () => page.evaluate(() => ({ base: window.__atelier.session.replay.baseSeq, events: window.__atelier.session.replay.events.map((e) => e.seq) }));
    await expect.poll(async () => (await loaded()).events.at(-1)).toBe(head);
    expect((await loaded()).base).toBe(base);
    expect((await loaded()).events[0]).toBe(base + 1);
    // The state at the head is whole: the lock taken before the snapshot, both agents, the prompts still open from before it.
    await page.waitForSelector("[data-testid=lock-badge][data-path='src/early.ts']");
    await page.waitForSelector("[data-testid=agent-badge][data-agent=claude]");
    await page.waitForSelector("[data-testid=agent-badge][data-agent=gemini] >> text=queue 2");
    await page.waitForSelector("[data-testid=chat-item][data-agent=gemini]:has-text('after the snapshot')");
    expect(await page.textContent("[data-testid=chat-item][data-agent=gemini]:has-text('queued before the snapshot') [data-testid=pending]")).toContain("#1 in gemini's queue");
    // What only the events tell (who blocked whom, tokens over time) carries on from the snapshot's state.
    const derived = () =>
      page.evaluate(() => {
        const d = window.__atelier.session.replay.derived;
        return { waits: d.lockWaits.map((w) => [w.agent, w.path, w.blockers]), tokens: d.usage.get("claude")?.map((u) => u.tokens) };
      });
    expect(await derived()).toEqual({ waits: [["gemini", "src/early.ts", ["claude"]]], tokens: [165] });
    await expect.poll(() => page.textContent("[data-testid=plot-lock-wait] figcaption")).toContain("(1)");
    await screenshot(page, "studio-recent-history");

    await page.click("[data-testid=load-all]");
    await expect.poll(async () => (await loaded()).events.length).toBe(head);
    expect((await loaded()).base).toBe(0);
    expect(await note.count()).toBe(0);
    await page.waitForSelector("[data-testid=lock-badge][data-path='src/early.ts']");
    expect(await derived()).toEqual({ waits: [["gemini", "src/early.ts", ["claude"]]], tokens: [150, 165] });
    expect(errors).toEqual([]);
    await page.close();

    // Load all pressed while the recent history is still loading (its first page held back until
    // then): the late page is dropped, not appended to the new history; one live socket.
    const again = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    const againErrors = watchErrors(again);
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    let holdNext = true;
    await again.route("**/events?**", async (route) => {
      if (holdNext) {
        holdNext = false;
        await held;
      }
      await route.continue();
    });
    await again.goto(`${server.url}/?token=${token}#/ws/${host.id}?history=50`);
    await again.click("[data-testid=load-all]");
    release();
    await expect.poll(() => again.evaluate(() => window.__atelier.session.replay.events.map((e) => e.seq).join())).toBe(Array.from({ length: head }, (_, i) => i + 1).join());
    await expect.poll(() => host.clients.size).toBe(1);
    expect(againErrors).toEqual([]);
    await again.close();
  }, 60_000);

  it("a workspace whose log failed (a full disk): its studio says why and opens it by itself once the server has reopened it", async () => {
    const { disk, storage } = fillableDisk();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "atelier-web-full-"));
    const full = await startServer({ dataDir: dir, host: "127.0.0.1", port: 0, webDist: distDir, storage, log: () => undefined });
    try {
      const owner = full.gateway.tokens.create("owner", "ada").token;
      const { host } = await full.gateway.createWorkspace({ name: "on a full disk", agents: [{ agentId: "claude", vendor: "claude", model: "claude-opus-4" }] });
      const id = host.id;
      const api = (method: string, p: string, body?: unknown) =>
        fetch(`${full.url}/api/v2${p}`, { method, headers: { authorization: `Bearer ${owner}`, "content-type": "application/json" }, ...(body ? { body: JSON.stringify(body) } : {}) });
      const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
      const errors = watchErrors(page);
      await page.goto(`${full.url}/?token=${owner}`);
      await page.locator(`[data-testid=ws-item][data-ws=${id}]`).waitFor();

      disk.full = true;
      // The first failure closes it for 1 s; once reopened (the disk still full), the next one for 2 s: time to open its page.
      expect((await api("POST", `/workspaces/${id}/agents/claude/execute`, { prompt: "one" })).status).toBe(503);
      await expect.poll(async () => (await api("GET", `/workspaces/${id}/status`)).status, { timeout: 5_000 }).toBe(200);
      expect((await api("POST", `/workspaces/${id}/agents/claude/execute`, { prompt: "two" })).status).toBe(503);
      await page.evaluate((ws) => void ((globalThis as unknown as { location: { hash: string } }).location.hash = `#/ws/${ws}`), id);
      const card = page.locator("[data-testid=unavailable]");
      await card.waitFor({ timeout: 5_000 });
      expect(await card.textContent()).toMatch(/is not served for now: its log failed \(.*ENOSPC.*\).*Its log could not be written/);
      await screenshot(page, "studio-log-failed");

      disk.full = false;
      // No reload: the page asks again and opens the workspace once it is served.
      await page.locator("[data-testid=composer]").waitFor({ timeout: 10_000 });
      expect(await card.count()).toBe(0);

      // Full again soon after the reopen: 4 s this time. The home page says so, and follows it back by itself.
      disk.full = true;
      expect((await api("POST", `/workspaces/${id}/agents/claude/execute`, { prompt: "three" })).status).toBe(503);
      await page.evaluate(() => void ((globalThis as unknown as { location: { hash: string } }).location.hash = "#/"));
      const item = page.locator(`[data-testid=ws-item][data-ws=${id}]`);
      await expect.poll(() => item.locator("[data-testid=ws-summary]").textContent(), { timeout: 5_000 }).toMatch(/^not served for now: its log failed \(ENOSPC/);
      expect(await item.locator("span.status").textContent()).toBe("unavailable");
      disk.full = false;
      await expect.poll(() => item.locator("span.status").textContent(), { timeout: 10_000 }).toMatch(/active|idle/);
      expect(errors.filter((e) => !/status of 503/.test(e))).toEqual([]);
      await page.close();
    } finally {
      await full.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  // Last: it restarts the server.
  it("a workspace the server could not open at its start: listed unavailable with why, its studio says so instead of an empty timeline", async () => {
    const { host } = await server.gateway.createWorkspace({ name: "damaged later", agents: [{ agentId: "claude", vendor: "claude", model: "claude-opus-4" }] });
    const id = host.id;
    await server.close();
    const logDir = path.join(dataDir, "workspaces", id, "log");
    const file = path.join(logDir, fs.readdirSync(logDir).find((n) => n.endsWith(".jsonl"))!);
    fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace('"name":"damaged later"', '"name":"Damaged later"'));
    server = await startServer({ dataDir, host: "127.0.0.1", port: 0, webDist: distDir, log: () => undefined });

    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    const errors = watchErrors(page);
    await page.goto(`${server.url}/?token=${token}`);
    const item = page.locator(`[data-testid=ws-item][data-ws=${id}]`);
    await expect.poll(() => item.locator("span.status").textContent(), { timeout: 15_000 }).toBe("unavailable");
    expect(await item.locator("[data-testid=ws-summary]").textContent()).toMatch(/^could not be opened: log corrupted in .* at seq 1: hash does not match/);
    await item.locator("a").click();
    const card = page.locator("[data-testid=unavailable]");
    await card.waitFor({ timeout: 15_000 });
    expect(await card.textContent()).toContain(`workspace ${id} could not be opened when the server started: log corrupted`);
    expect(await page.locator("[data-testid=composer]").count()).toBe(0);
    await screenshot(page, "studio-unavailable");
    // The browser reports the 503 it was answered; nothing else went wrong.
    expect(errors.filter((e) => !/status of 503/.test(e))).toEqual([]);
    await page.close();
  }, 60_000);
});
