import { CommandRejected, type RunnerConnection, type RunnerSink } from "@atelier/actors";
import { chance, nextInt, pick, type Random, type VirtualClock } from "@atelier/events";
import type { Probes } from "../checkers/probes.ts";
import { Violation } from "../checkers/violation.ts";
import { HEARTBEAT_EVERY_MS, PATHS } from "./config.ts";
import type { FileGateway } from "./files.ts";
import type { Host } from "./host.ts";
import { HostClock } from "./host-clock.ts";
import type { Link } from "./network.ts";
import type { Plant } from "./plant.ts";

/** What a runner needs from the world around it. */
export interface RunnerWorld {
  readonly clock: VirtualClock;
  readonly files: FileGateway;
  readonly probes: Probes;
  readonly plant: Plant | undefined;
  host(): Host | undefined;
  /** Reports a violation seen inside a request (where throwing would only reject the request). */
  violate(v: Violation): void;
}

interface Session {
  readonly hostEpoch: number;
  conn: RunnerConnection | undefined;
}

interface Work {
  readonly promptId: string;
  readonly paths: string[];
  next: number;
  held: { path: string; token: number } | undefined;
}

type Reply<T> = { ok: true; value: T } | { ok: false; error: unknown };

const code = (error: unknown) => (error instanceof CommandRejected ? error.code : undefined);

/**
 * A scripted agent's runner: connects (with a generation), heartbeats, and for each dispatched
 * prompt plans a few files, locks each one, edits it with the fencing token, releases it, and
 * reports the result until the workspace acknowledges it. Every frame crosses a faulty link; the
 * runner process itself can crash, pause and restart.
 */
export class SimRunner {
  private proc: HostClock;
  private session: Session | undefined;
  private work: Work | undefined;
  private retryBackoff = 500;
  alive = true;

  constructor(
    readonly agent: string,
    private readonly world: RunnerWorld,
    private readonly random: Random,
    readonly up: Link,
    readonly down: Link,
  ) {
    this.proc = new HostClock(world.clock, { offsetMs: 0 });
    up.onBreak = down.onBreak = () => this.linkBroke();
    this.connectSoon(nextInt(random, 0, 500));
  }

  /** The WebSocket broke: this side notices soon; the workspace only by the heartbeat TTL or the reconnect. */
  private linkBroke(): void {
    const s = this.session;
    if (s) this.proc.setTimer(nextInt(this.random, 50, 1000), () => this.onClosed(s));
  }

  get connected(): boolean {
    return this.session?.conn !== undefined;
  }

  // ---- process faults -------------------------------------------------------------------------

  /** The runner process dies: no close frame, no more heartbeats (the workspace times it out). */
  crash(downMs: number): void {
    const dead = this.session;
    this.proc.kill();
    this.alive = false;
    this.session = undefined;
    this.work = undefined;
    if (this.kept && this.kept === dead) this.keepAlive(dead);
    this.world.clock.setTimer(downMs, () => this.restart());
  }

  restart(): void {
    if (this.alive) return;
    this.alive = true;
    this.proc = new HostClock(this.world.clock, { offsetMs: 0 });
    this.connectSoon(nextInt(this.random, 0, 500));
  }

  pause(ms: number): void {
    this.proc.pause(ms);
  }

  unpause(): void {
    this.proc.unpause();
  }

  /**
   * F14: the runner reconnects (a new generation) while a frame of its old session is still in
   * flight; that frame arrives late and must be refused.
   */
  reconnect(staleAfterMs: number): void {
    const old = this.session;
    const oldWork = this.work;
    if (!old?.conn || !this.alive) return;
    this.session = undefined;
    this.work = undefined;
    const conn = old.conn;
    this.up.sendLate(() => this.staleFrame(old, conn, oldWork?.promptId), staleAfterMs);
    void this.connect();
  }

  private staleFrame(old: Session, conn: RunnerConnection, promptId: string | undefined): void {
    const host = this.world.host();
    if (!host || host.epoch !== old.hostEpoch) return;
    host.deliver(() => {
      const call = promptId ? conn.complete(promptId, { result: "late result from an old session" }) : conn.activity("editing");
      void host.call(() => call).then(
        () => {
          const current = host.ws.agents.get(this.agent)?.generation ?? 0;
          if (current !== conn.generation) this.world.violate(new Violation("I13", `a frame of ${this.agent}'s superseded runner generation ${conn.generation} was accepted (current ${current})`));
        },
        (error: unknown) => {
          if (code(error) === "stale_runner") this.world.probes.reach("stale runner frame rejected");
        },
      );
    });
  }

  /**
   * Planted bug `drop-requeue`: the gateway keeps the first session it opened to this host and
   * hands it to every reconnect, heartbeating for it while the runner is dead. The workspace never
   * sees a disconnect, so a prompt in flight is never put back in the queue.
   */
  private kept: Session | undefined;

  private keepAlive(s: Session): void {
    const beat = () => {
      const host = this.world.host();
      if (this.kept !== s || this.alive || !host || host.epoch !== s.hostEpoch) return;
      s.conn!.heartbeat();
      this.world.clock.setTimer(HEARTBEAT_EVERY_MS, beat);
    };
    beat();
  }

  // ---- connection -----------------------------------------------------------------------------

  private connectSoon(delayMs: number): void {
    this.proc.setTimer(delayMs, () => void this.connect());
  }

  private async connect(): Promise<void> {
    if (!this.alive || this.session) return;
    const host = this.world.host();
    if (!host?.alive || !this.up.up || !this.down.up) {
      this.retryBackoff = Math.min(8000, this.retryBackoff * 2);
      return this.connectSoon(nextInt(this.random, this.retryBackoff / 2, this.retryBackoff));
    }
    if (this.kept?.conn && this.kept.hostEpoch === host.epoch) {
      this.session = this.kept;
      this.heartbeat(this.kept);
      return;
    }
    const s: Session = { hostEpoch: host.epoch, conn: undefined };
    this.session = s;
    const sink: RunnerSink = {
      dispatch: (p) => this.toRunner(() => this.onDispatch(s, p.promptId)),
      abort: (promptId) => this.toRunner(() => this.onAbort(s, promptId)),
      close: () => this.toRunner(() => this.onClosed(s)),
    };
    try {
      s.conn = await host.call((ws) => ws.runners.connect(this.agent, sink));
    } catch {
      if (this.session === s) {
        this.session = undefined;
        this.connectSoon(nextInt(this.random, 500, 3000));
      }
      return;
    }
    this.retryBackoff = 500;
    if (this.world.plant === "drop-requeue") this.kept = s;
    this.heartbeat(s);
  }

  /** The host process this session talks to died: the socket closes after a while. */
  hostDied(epoch: number, afterMs: number): void {
    const s = this.session;
    if (s && s.hostEpoch === epoch) this.proc.setTimer(afterMs, () => this.onClosed(s));
  }

  private heartbeat(s: Session): void {
    this.proc.setTimer(HEARTBEAT_EVERY_MS, () => {
      if (this.session !== s || !s.conn) return;
      const conn = s.conn;
      this.toHost(s, () => conn.heartbeat());
      this.heartbeat(s);
    });
  }

  private onClosed(s: Session): void {
    if (this.session !== s) return;
    this.session = undefined;
    this.work = undefined;
    this.connectSoon(nextInt(this.random, 200, 2000));
  }

  // ---- frames ---------------------------------------------------------------------------------

  /** Runner → workspace: lost if the host it was meant for has died. */
  private toHost(s: Session, frame: (host: Host) => void): void {
    this.up.send(() => {
      const host = this.world.host();
      if (host && host.epoch === s.hostEpoch) host.deliver(() => frame(host));
    });
  }

  /** Workspace → runner: held while this process is paused, gone if it died. */
  private toRunner(frame: () => void): void {
    const proc = this.proc;
    this.down.send(() => proc.setTimer(0, frame));
  }

  /** A request and its reply, each over its own link; the reply only counts for the same session. */
  private request<T>(s: Session, call: (host: Host, conn: RunnerConnection) => Promise<T>, onReply: (r: Reply<T>) => void): void {
    const conn = s.conn;
    if (!conn) return;
    this.toHost(s, (host) => {
      const reply = (r: Reply<T>) =>
        this.toRunner(() => {
          if (this.session !== s) return;
          if (!r.ok && code(r.error) === "stale_runner") return this.onClosed(s);
          onReply(r);
        });
      // As the gateway's runner session does: a superseded generation's frames (its lock requests
      // included, which name only the agent) are refused before they reach the workspace.
      const fenced = () => (host.ws.runners.isCurrent(this.agent, conn.generation) ? call(host, conn) : Promise.reject(new CommandRejected("stale_runner", `runner generation ${conn.generation} of ${this.agent} is no longer connected`)));
      host.call(fenced).then(
        (value) => reply({ ok: true, value }),
        (error: unknown) => reply({ ok: false, error }),
      );
    });
  }

  // ---- the scripted agent ---------------------------------------------------------------------

  private onDispatch(s: Session, promptId: string): void {
    if (this.session !== s || this.work?.promptId === promptId) return;
    const first = pick(this.random, PATHS);
    const paths = chance(this.random, 0.4) ? [first, pick(this.random, PATHS.filter((p) => p !== first))] : [first];
    const work: Work = { promptId, paths, next: 0, held: undefined };
    this.work = work;
    this.proc.setTimer(nextInt(this.random, 100, 3000), () => this.advance(s, work));
  }

  private onAbort(s: Session, promptId: string): void {
    if (this.session !== s || this.work?.promptId !== promptId) return;
    this.releaseHeld(s, this.work);
    this.work = undefined;
  }

  private current(s: Session, w: Work): boolean {
    return this.session === s && this.work === w && this.alive;
  }

  /** Next file: lock it (waiting at most 10 s), or report the result once every file is done. */
  private advance(s: Session, w: Work): void {
    if (!this.current(s, w)) return;
    const path = w.paths[w.next];
    if (path === undefined) return this.finish(s, w);
    this.request(
      s,
      (host) => host.ws.locks.acquire(path, this.agent, "exclusive", { wait: true, timeoutMs: 10_000 }),
      (r) => {
        if (!this.current(s, w)) return;
        if (!r.ok || !r.value.granted) {
          w.next++;
          return this.proc.setTimer(nextInt(this.random, 50, 500), () => this.advance(s, w));
        }
        w.held = { path, token: r.value.token };
        this.request(s, (_host, conn) => conn.activity("editing"), () => undefined);
        this.proc.setTimer(nextInt(this.random, 300, 6000), () => this.edit(s, w));
      },
    );
  }

  private edit(s: Session, w: Work): void {
    if (!this.current(s, w) || !w.held) return;
    const { path, token } = w.held;
    this.request(
      s,
      async (host) => this.world.files.write(host, path, this.agent, token),
      () => {
        if (!this.current(s, w)) return;
        this.releaseHeld(s, w);
        w.next++;
        this.proc.setTimer(nextInt(this.random, 50, 1000), () => this.advance(s, w));
      },
    );
  }

  private releaseHeld(s: Session, w: Work): void {
    const held = w.held;
    w.held = undefined;
    if (held) this.request(s, (host) => host.ws.locks.release(held.path, this.agent), () => undefined);
  }

  /** Reports the result, resending until the workspace answers (a lost frame must not lose a prompt). */
  private finish(s: Session, w: Work): void {
    const failed = chance(this.random, 0.1);
    const send = () => {
      if (!this.current(s, w)) return;
      this.request(
        s,
        (_host, conn) => (failed ? conn.fail(w.promptId, "tests failed") : conn.complete(w.promptId, { result: `edited ${w.paths.join(", ")}`, tokensIn: 100, tokensOut: 20 })),
        (r) => {
          if (this.work !== w) return;
          // Refused means the workspace already settled this prompt (a duplicate, or it was cancelled).
          if (r.ok || code(r.error) === "refused") this.work = undefined;
        },
      );
      this.proc.setTimer(4000, send);
    };
    send();
  }
}
