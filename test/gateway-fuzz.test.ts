import fc from "fast-check";
import { afterAll, beforeAll, expect, it } from "vitest";
import { Probe, testServer, type TestServer } from "../packages/gateway/test/support/server.ts";

/**
 * SIMULATION F25 at the edge: malformed bodies, parameters, query strings and frames, generated
 * from a fixed seed. Every answer must be a 4xx that says why (a JSON error, or a 44xx/1009 close
 * with a reason), never a 5xx; the server stays up; and nothing reaches the log.
 */
const SEED = 20261123;
let t: TestServer;
let ws: string;
let runnerToken: string;

beforeAll(async () => {
  t = await testServer({ limits: { clientRate: { perSecond: 1000, burst: 1000 }, runnerRate: { perSecond: 1000, burst: 1000 } } });
  const created = await t.api("POST", "/workspaces", { name: "fuzz", agents: [{ id: "claude", vendor: "claude", model: "opus" }] });
  ws = created.body.workspace.id;
  runnerToken = created.body.runnerTokens.claude;
});
afterAll(() => t.close());

const sample = <T>(arb: fc.Arbitrary<T>, n: number, salt: number): T[] => fc.sample(arb, { numRuns: n, seed: SEED + salt });

const notJson = fc.string({ minLength: 1, maxLength: 40 }).filter((s) => {
  try {
    JSON.parse(s);
    return false;
  } catch {
    return s.trim() !== "";
  }
});
const junk = fc.oneof(fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.string({ maxLength: 20 }), fc.array(fc.integer(), { maxLength: 3 }), fc.object({ maxDepth: 1 }));

/** Turns a valid body into an invalid one: an unknown key, a wrong-typed field, a non-object, or not JSON. */
const breakBody = (valid: Record<string, unknown>) =>
  fc.oneof(
    fc.tuple(fc.string({ minLength: 1, maxLength: 8 }).filter((k) => !(k in valid) && k !== "__proto__"), junk).map(([k, v]) => JSON.stringify({ ...valid, [k]: v })),
    fc.tuple(fc.constantFrom(...Object.keys(valid)), junk).filter(([k, v]) => typeof v !== typeof valid[k] || v === null || Array.isArray(v)).map(([k, v]) => JSON.stringify({ ...valid, [k]: v })),
    junk.filter((v) => typeof v !== "object" || v === null || Array.isArray(v)).map((v) => JSON.stringify(v)),
    notJson,
  );

const expectReasoned4xx = (res: { status: number; body: any }, what: string) => {
  expect(res.status, what).toBeGreaterThanOrEqual(400);
  expect(res.status, what).toBeLessThan(500);
  expect(typeof res.body?.error?.code, `${what}: ${JSON.stringify(res.body)}`).toBe("string");
  expect(res.body.error.message.length, what).toBeGreaterThan(0);
};

it("1,000+ malformed requests and frames: every answer is a reasoned 4xx, the server stays up, the log head does not move", async () => {
  const host = t.server.gateway.hosts.get(ws)!;
  const head = host.head;
  let cases = 0;

  const bodies: Array<[string, string, Record<string, unknown>]> = [
    ["POST", "/workspaces", { name: "w", agents: [{ id: "a", vendor: "custom", model: "m" }] }],
    ["POST", `/workspaces/${ws}/agents/claude/execute`, { prompt: "hi", priority: 1 }],
    ["PUT", `/workspaces/${ws}/summary`, { text: "s", messageCursor: 1 }],
    ["POST", "/tokens", { role: "viewer", name: "n" }],
    ["POST", `/workspaces/${ws}/hibernate`, {}],
    ["POST", `/workspaces/${ws}/restart`, {}],
    ["POST", `/workspaces/${ws}/read-models/rebuild`, {}],
    ["POST", `/workspaces/${ws}/agents/claude/prompts/pr_x/cancel`, {}],
  ];
  for (const [i, [method, path, valid]] of bodies.entries()) {
    const broken = Object.keys(valid).length === 0 ? fc.oneof(junk.filter((v) => typeof v !== "object" || v === null || Array.isArray(v) || Object.keys(v).length > 0).map((v) => JSON.stringify(v)), notJson) : breakBody(valid);
    for (const body of sample(broken, 90, i)) {
      expectReasoned4xx(await t.api(method, path, body), `${method} ${path} ${body}`);
      cases++;
    }
  }

  const badSegment = fc.string({ minLength: 1, maxLength: 30 }).filter((s) => !/^[A-Za-z0-9_-]+$/.test(s)).map(encodeURIComponent);
  const paths = [
    (s: string) => `/workspaces/${s}/status`,
    (s: string) => `/workspaces/${ws}/agents/${s}/execute`,
    (s: string) => `/workspaces/${s}/timeline`,
    (s: string) => `/tokens/${s}`,
  ];
  for (const [i, make] of paths.entries()) {
    for (const segment of sample(badSegment, 40, 100 + i)) {
      const path = make(segment);
      const method = path.endsWith("execute") ? "POST" : path.startsWith("/tokens") ? "DELETE" : "GET";
      expectReasoned4xx(await t.api(method, path, method === "POST" ? { prompt: "x" } : undefined), `${method} ${path}`);
      cases++;
    }
  }

  const badQuery = fc.oneof(
    fc.tuple(fc.constantFrom("from", "limit", "before"), fc.string({ maxLength: 8 }).filter((v) => !/^[1-9]\d{0,2}$/.test(v))).map(([k, v]) => `${k}=${encodeURIComponent(v)}`),
    fc.string({ minLength: 1, maxLength: 8 }).filter((k) => /^[a-z]+$/.test(k) && !["from", "limit", "type", "agent", "entity", "before"].includes(k)).map((k) => `${k}=1`),
    fc.constantFrom("limit=1&limit=2", "limit=0", "limit=1000", "from=-1", "agent=%00", "type="),
  );
  for (const [i, path] of [`/workspaces/${ws}/timeline`, `/workspaces/${ws}/messages`, `/workspaces/${ws}/events`, `/workspaces/${ws}/status`].entries()) {
    for (const q of sample(badQuery, 40, 200 + i)) {
      expectReasoned4xx(await t.api("GET", `${path}?${q}`), `${path}?${q}`);
      cases++;
    }
  }
  for (const token of sample(fc.string({ maxLength: 70 }), 60, 300)) {
    expectReasoned4xx(await t.api("GET", "/workspaces", undefined, token.replace(/[^\x21-\x7e]/g, "x") || "x"), `token ${token}`);
    cases++;
  }

  const badClientFrame = fc.oneof(
    notJson,
    junk.map((v) => JSON.stringify(v)),
    fc.record({ type: fc.constantFrom("prompt", "cancel", "ping", "nope"), agent: junk, text: junk }).map((f) => JSON.stringify(f)),
  ).filter((f) => !/^\{"type":"ping"(,"id":"[^"]+")?\}$/.test(f));
  /** Opens a socket, waits for its first frame of `ready` type, sends `frame`: it must close with 4400 and a reason. */
  const refusedFrame = async (query: string, ready: string, frame: string) => {
    const probe = new Probe(t.wsUrl(ws, query));
    await probe.until((f) => f.type === ready);
    probe.send(frame);
    const { code, reason } = await probe.closed;
    expect(code, frame).toBe(4400);
    expect(reason.length, frame).toBeGreaterThan(0);
    cases++;
  };
  for (const frame of sample(badClientFrame, 150, 400)) await refusedFrame(`token=${t.owner}`, "init", frame);
  // Replay sockets pass the same gate: malformed frames close them with 4400 and are counted.
  const badReplayFrames = sample(fc.oneof(notJson, junk.map((v) => JSON.stringify({ type: "rewind", v }))), 40, 700);
  for (const frame of badReplayFrames) await refusedFrame(`token=${t.owner}&mode=replay&from=1&speed=1000`, "replay.start", frame);
  expect(t.server.gateway.metrics.value("atelier_ws_bad_frames_total", { role: "replay" })).toBe(badReplayFrames.length);
  for (const q of sample(fc.constantFrom("role=admin", "mode=tail", "since=abc", "role=runner", "role=runner&agent=nobody", "mode=replay&since=1", "from=2", "agent=claude", "speed=0"), 40, 500)) {
    const probe = new Probe(t.wsUrl(ws, `token=${t.owner}&${q}`));
    const { code, reason } = await probe.closed;
    expect(code, q).toBeGreaterThanOrEqual(4400);
    expect(code, q).toBeLessThan(4500);
    expect(reason.length, q).toBeGreaterThan(0);
    cases++;
  }
  expect(host.head).toBe(head);

  // Runner frames: a runner's connect and disconnect are events themselves; nothing else may be written.
  const badRunnerFrame = fc.oneof(notJson, fc.record({ type: fc.constantFrom("result", "status", "lock.acquire", "chunk"), promptId: junk, state: junk }).map((f) => JSON.stringify(f)));
  for (const frame of sample(badRunnerFrame, 60, 600)) await refusedFrame(`role=runner&agent=claude&token=${runnerToken}`, "hello", frame);
  await host.ws.settled();
  const written = new Set([...host.ws.log.read({ from: head + 1 })].map((e) => e.type));
  expect([...written].filter((type) => !["agent.connected", "agent.disconnected", "workspace.touched"].includes(type))).toEqual([]);

  expect(cases).toBeGreaterThanOrEqual(1000);
  expect(t.server.gateway.metrics.value("atelier_http_errors_total", { status: "500" })).toBe(0);
  expect((await fetch(`${t.server.url}/healthz`)).status).toBe(200);
});
