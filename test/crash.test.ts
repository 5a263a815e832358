/**
 * Crash test of the log (issue 1, acceptance): a child process appends with `fsync: "always"` and
 * prints each seq once its append has resolved; we SIGKILL it at a random moment, 20 times on the
 * same folder. After each kill the log must open (taking over the dead child's writer lock), every
 * seq the child ever printed must be there with the very bytes it acknowledged, and the only thing
 * opening may have cut is a torn tail: the bytes after the last newline of the last segment.
 */
import { spawn } from "node:child_process";
import { createHash, randomInt } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { nextInt, openLog, seededRandom } from "@atelier/events";
import { CRASH_SEGMENT_BYTES, CRASH_WORKSPACE, crashCatalogue } from "./fixtures/crash-child.ts";

const ROUNDS = 20;
const KILL_MIN_MS = 50;
const KILL_MAX_MS = 400;

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, "..");
const child = path.join(here, "fixtures", "crash-child.ts");

const sha256 = (data: string | Uint8Array): string => createHash("sha256").update(data).digest("hex");

interface ChildRun {
  readonly pid: number;
  /** [seq, sha256 of the line] for every complete line the child printed after `ready`. */
  readonly acked: Array<[number, string]>;
  readonly readyHead: number;
  readonly killedAfterMs: number;
}

/** Starts the child, waits for `ready`, SIGKILLs it `delayMs` later, and collects what it printed. */
const runChild = (dir: string, seed: number, delayMs: number): Promise<ChildRun> =>
  new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ["--import", "tsx", child, dir, String(seed)], {
      cwd: repoRoot,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    let readyHead: number | undefined;
    let readyAt = 0;
    let killedAfterMs = 0;
    let killed = false;
    const startup = setTimeout(() => {
      proc.kill("SIGKILL");
      reject(new Error(`child never became ready (seed ${seed}): ${err}`));
    }, 30_000);
    proc.stdout.setEncoding("utf8");
    proc.stderr.setEncoding("utf8");
    proc.stdout.on("data", (chunk: string) => {
      out += chunk;
      if (readyHead === undefined && out.includes("\n")) {
        const first = out.slice(0, out.indexOf("\n")).split("\t");
        if (first[0] !== "ready") return reject(new Error(`child said ${JSON.stringify(first)} before ready`));
        readyHead = Number(first[1]);
        readyAt = performance.now();
        clearTimeout(startup);
        setTimeout(() => {
          killedAfterMs = performance.now() - readyAt;
          killed = proc.kill("SIGKILL");
        }, delayMs);
      }
    });
    proc.stderr.on("data", (chunk: string) => (err += chunk));
    proc.on("error", reject);
    proc.on("close", (code, signal) => {
      clearTimeout(startup);
      if (!killed || signal !== "SIGKILL") {
        return reject(new Error(`child exited by itself (code ${code}, signal ${signal}, seed ${seed}):\n${err}`));
      }
      // Only whole lines count: a line the kill cut short was never fully acknowledged.
      const lines = out.slice(0, out.lastIndexOf("\n") + 1).split("\n").slice(1, -1);
      const acked = lines.map((line): [number, string] => {
        const [seq, hash] = line.split("\t");
        return [Number(seq), hash!];
      });
      resolve({ pid: proc.pid!, acked, readyHead: readyHead!, killedAfterMs });
    });
  });

const segmentFiles = (logDir: string): string[] =>
  fs.existsSync(logDir) ? fs.readdirSync(logDir).filter((n) => /^\d{16}\.jsonl$/.test(n)).sort() : [];

describe("crash: SIGKILL during appends with fsync always", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "atelier-crash-"));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it(`loses no acknowledged event and only ever truncates a torn tail (${ROUNDS} kills)`, { timeout: 120_000 }, async () => {
    const baseSeed = randomInt(1, 2 ** 31);
    const random = seededRandom(baseSeed);
    const context = (round: number) => `round ${round}, base seed ${baseSeed}, dir ${dir}`;
    const logDir = path.join(dir, "log");
    /** Every seq any child ever acknowledged, with the sha256 of its line. */
    const acked = new Map<number, string>();
    /** The sha256 of every line the previous open found, to prove nothing verified was ever cut. */
    let verified = new Map<number, string>();
    const stats = { torn: 0, tornBytes: 0, acked: 0, maxHead: 0, segments: 0 };

    for (let round = 1; round <= ROUNDS; round++) {
      const delay = nextInt(random, KILL_MIN_MS, KILL_MAX_MS);
      const run = await runChild(dir, baseSeed + round, delay);
      expect(run.readyHead, `child opened at the head we left (${context(round)})`).toBe(verified.size);
      for (const [seq, hash] of run.acked) {
        const before = acked.get(seq);
        expect(before === undefined || before === hash, `seq ${seq} acknowledged twice with different bytes (${context(round)})`).toBe(true);
        acked.set(seq, hash);
      }
      stats.acked += run.acked.length;

      // The dead child's lock is still there; opening must take it over.
      const lock = JSON.parse(fs.readFileSync(path.join(logDir, "writer.lock"), "utf8")) as { pid: number };
      expect(lock.pid, context(round)).toBe(run.pid);

      const files = segmentFiles(logDir);
      const sizes = new Map(files.map((f) => [f, fs.statSync(path.join(logDir, f)).size]));
      const lastName = files.at(-1);
      const lastBefore = lastName ? fs.readFileSync(path.join(logDir, lastName)) : undefined;

      const log = await openLog(dir, { workspace: CRASH_WORKSPACE, catalogue: crashCatalogue, fsync: "always", segmentBytes: CRASH_SEGMENT_BYTES });
      try {
        // Only a torn tail may have been cut: the bytes after the last newline of the last segment.
        const torn = log.recovery.truncated;
        const after = segmentFiles(logDir);
        expect(after, `opening removed or added no segment (${context(round)})`).toEqual(files);
        for (const f of files) {
          const size = fs.statSync(path.join(logDir, f)).size;
          if (torn && f === lastName) continue;
          expect(size, `${f} untouched by opening (${context(round)})`).toBe(sizes.get(f));
        }
        if (torn) {
          stats.torn++;
          stats.tornBytes += torn.bytes;
          expect(path.basename(torn.file), `torn tail is in the last segment (${context(round)})`).toBe(lastName);
          expect(torn.offset + torn.bytes, `torn tail runs to the end of the file (${context(round)})`).toBe(sizes.get(lastName!));
          const cut = lastBefore!.subarray(torn.offset);
          expect(cut.includes(10), `the cut bytes hold no whole line (${context(round)})`).toBe(false);
          expect(torn.offset === 0 || lastBefore![torn.offset - 1] === 10, `cut right after a newline (${context(round)})`).toBe(true);
          const kept = fs.readFileSync(torn.file);
          expect(kept.length, context(round)).toBe(torn.offset);
          expect(Buffer.compare(kept, lastBefore!.subarray(0, torn.offset)), `kept bytes unchanged (${context(round)})`).toBe(0);
        }

        // The chain verified on open; every seq from 1 to head is there, in order.
        const lines = new Map<number, string>();
        let expected = 1;
        for (const { seq, line } of log.readRaw()) {
          expect(seq, context(round)).toBe(expected++);
          lines.set(seq, sha256(line));
        }
        expect(lines.size, context(round)).toBe(log.head());

        // Every seq any child printed is present with identical bytes.
        for (const [seq, hash] of acked) {
          if (lines.get(seq) !== hash) {
            throw new Error(`acknowledged seq ${seq} ${lines.has(seq) ? "has different bytes" : "is missing"} (head ${log.head()}, ${context(round)})`);
          }
        }
        // Everything the previous open verified is still there, byte for byte.
        for (const [seq, hash] of verified) {
          if (lines.get(seq) !== hash) throw new Error(`seq ${seq}, verified by the previous open, changed or vanished (${context(round)})`);
        }
        verified = lines;
        stats.maxHead = log.head();
        stats.segments = after.length;
      } finally {
        await log.close();
      }
    }

    expect(stats.acked, "the children acknowledged some events").toBeGreaterThan(0);
    console.log(
      `crash test: ${ROUNDS} kills, ${stats.acked} acknowledged events, head ${stats.maxHead} in ${stats.segments} segments, ` +
        `${stats.torn} torn tails truncated (${stats.tornBytes} bytes), base seed ${baseSeed}`,
    );
  });
});
