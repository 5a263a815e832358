import type { AppendInput, EventCatalogue } from "@atelier/events";
import { parseEntity, step, type ActorSnapshot, type AtelierEvent, type Step } from "../machines/index.ts";
import { refused } from "./errors.ts";

/** An effect that runs after its transaction is durable (never during replay). */
export type PostEffect = { readonly type: string; readonly entity: string } & Record<string, unknown>;

/** Turns an internal effect into more events of the same transaction; false for external effects. */
export type Reactor = (tx: Tx, entity: string, effect: { type: string }) => boolean;

/**
 * One command's transaction: events are applied to an overlay over the runtime's working state,
 * so a command that fails half-way leaves nothing behind. Committed only once the log has made
 * every event durable.
 */
export class Tx {
  readonly inputs: AppendInput[] = [];
  readonly overlay = new Map<string, ActorSnapshot>();
  readonly effects: PostEffect[] = [];

  constructor(
    readonly now: number,
    private readonly working: ReadonlyMap<string, ActorSnapshot>,
    private readonly catalogue: EventCatalogue,
    private readonly reactor: Reactor,
  ) {}

  get(entity: string): ActorSnapshot | undefined {
    return this.overlay.get(entity) ?? this.working.get(entity);
  }

  /** Entities of a kind, as seen by this transaction. */
  *entitiesOf(kind: string): Generator<string> {
    const prefix = `${kind}:`;
    for (const e of this.working.keys()) if (e.startsWith(prefix)) yield e;
    for (const e of this.overlay.keys()) if (e.startsWith(prefix) && !this.working.has(e)) yield e;
  }

  /** Applies an event, throwing CommandRejected if its actor refuses it. */
  apply(entity: string, event: AtelierEvent, agent?: string): Step {
    const s = this.tryApply(entity, event, agent);
    if (!s.accepted) throw refused(entity, event.type, s.from);
    return s;
  }

  /**
   * Validates the payload against the catalogue (a malformed event never reaches a machine),
   * then transitions. Accepted events are queued for the log and their effects handled.
   */
  tryApply(entity: string, event: AtelierEvent, agent?: string): Step {
    const payload = this.catalogue.validate(event.type, event.payload);
    const e = { type: event.type, payload } as AtelierEvent;
    const s = step(entity, this.get(entity), e);
    if (!s.accepted) return s;
    this.overlay.set(entity, s.after);
    this.inputs.push({ type: e.type, entity, payload, from: s.from, to: s.to, ...(agent !== undefined ? { agent } : {}) });
    for (const effect of s.effects) {
      if (!this.reactor(this, entity, effect)) this.effects.push({ ...effect, entity } as PostEffect);
    }
    return s;
  }

  /** Agents whose agent or prompt-queue actor this transaction changed (candidates for dispatch), in order of first change. */
  changedAgents(): string[] {
    const agents: string[] = [];
    for (const entity of this.overlay.keys()) {
      const { kind, key } = parseEntity(entity);
      if ((kind === "agent" || kind === "prompts") && !agents.includes(key)) agents.push(key);
    }
    return agents;
  }

  /** Appends an event that no actor owns (a bus message), validated like any other. */
  record(entity: string, event: AtelierEvent, agent?: string): void {
    const payload = this.catalogue.validate(event.type, event.payload);
    this.inputs.push({ type: event.type, entity, payload, ...(agent !== undefined ? { agent } : {}) });
  }

  /** Records an effect for after the commit. */
  after(effect: PostEffect): void {
    this.effects.push(effect);
  }
}
