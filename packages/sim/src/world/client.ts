import { CommandRejected, type Workspace } from "@atelier/actors";
import type { VirtualClock } from "@atelier/events";
import type { Probes } from "../checkers/probes.ts";
import type { Host } from "./host.ts";
import type { Link } from "./network.ts";

export interface ClientWorld {
  readonly clock: VirtualClock;
  readonly probes: Probes;
  host(): Host | undefined;
}

/** A prompt the user sent: acknowledged once the workspace answered with its id. */
export interface SentPrompt {
  readonly requestId: string;
  readonly agent: string;
  promptId: string | undefined;
  /** Refused by the workspace (a definite no: not a lost prompt). */
  refused: boolean;
}

const RETRY_MS = 5000;

export type LifecycleOp = "hibernate" | "resume" | "touch" | "terminate";

/**
 * A person at the studio: sends prompts (retrying with the same clientRequestId until answered,
 * so a lost reply, F15, must not queue the prompt twice), cancels, hibernates and resumes. Talks
 * to whichever host is up when a frame arrives, as the gateway would route it.
 */
export class SimClient {
  readonly sent: SentPrompt[] = [];
  private count = 0;

  constructor(
    readonly user: string,
    private readonly world: ClientWorld,
    readonly up: Link,
    readonly down: Link,
  ) {}

  private send<T>(call: (ws: Workspace) => Promise<T>, onReply: (r: { ok: true; value: T } | { ok: false; error: unknown }) => void): void {
    this.up.send(() => {
      const host = this.world.host();
      if (!host?.alive) return;
      host.deliver(() => {
        host.call(call).then(
          (value) => this.down.send(() => onReply({ ok: true, value })),
          (error: unknown) => this.down.send(() => onReply({ ok: false, error })),
        );
      });
    });
  }

  prompt(agent: string, priority: number, interrupt: boolean): void {
    const sent: SentPrompt = { requestId: `${this.user}-r${++this.count}`, agent, promptId: undefined, refused: false };
    this.sent.push(sent);
    this.attempt(sent, priority, interrupt);
  }

  private attempt(sent: SentPrompt, priority: number, interrupt: boolean): void {
    if (sent.promptId !== undefined || sent.refused) return;
    this.send(
      (ws) => ws.prompts.enqueue(sent.agent, { text: `please edit (${sent.requestId})`, author: this.user, priority, clientRequestId: sent.requestId, interrupt }),
      (r) => {
        if (r.ok) {
          if (sent.promptId === undefined && r.value.duplicate) this.world.probes.reach("duplicate enqueue deduplicated");
          sent.promptId ??= r.value.promptId;
        } else if (r.error instanceof CommandRejected && r.error.code !== "unavailable") sent.refused = true;
      },
    );
    this.world.clock.setTimer(RETRY_MS, () => this.attempt(sent, priority, interrupt));
  }

  cancel(agent: string, promptId: string): void {
    this.send((ws) => ws.prompts.cancel(agent, promptId), () => undefined);
  }

  lifecycle(kind: LifecycleOp): void {
    this.send((ws) => {
      switch (kind) {
        case "hibernate":
          return ws.lifecycle.hibernate(this.user);
        case "resume":
          return ws.lifecycle.resume();
        case "touch":
          return ws.lifecycle.touch();
        case "terminate":
          return ws.lifecycle.terminate(this.user);
      }
    }, () => undefined);
  }

  /** Prompts sent but not yet answered. */
  pending(): SentPrompt[] {
    return this.sent.filter((s) => s.promptId === undefined && !s.refused);
  }
}
