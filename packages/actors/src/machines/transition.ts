import { createActor, type AnyStateMachine } from "xstate";

interface InertScope {
  readonly scope: Parameters<AnyStateMachine["transition"]>[2];
  readonly actions: { type: string; params?: unknown }[];
}

const scopes = new WeakMap<AnyStateMachine, InertScope>();
/** Satisfies every machine's input shape; input is only read for initial snapshots, never here. */
const ANY_INPUT = { path: "", agent: "", agentId: "" };

/**
 * XState's pure `transition(machine, snapshot, event)` with one difference: the inert actor scope
 * it runs in is built once per machine instead of once per call. xstate 5.33 constructs a whole
 * throwaway actor (and its initial snapshot) on every `transition()`, which caps a machine at
 * ~20k transitions/s; reusing the scope keeps the same semantics (same snapshot object when the
 * event is not handled, actions returned as data, nothing executed).
 */
export const pureTransition = (logic: AnyStateMachine, snapshot: unknown, event: unknown): [unknown, InertScope["actions"]] => {
  let inert = scopes.get(logic);
  if (!inert) {
    const self = createActor(logic, { input: ANY_INPUT });
    const actions: InertScope["actions"] = [];
    const scope = {
      self,
      defer: () => {},
      id: "",
      logger: () => {},
      sessionId: "",
      stopChild: () => {},
      system: self.system,
      emit: () => {},
      actionExecutor: (action: { type: string; params?: unknown }) => void actions.push(action),
    } as unknown as InertScope["scope"];
    inert = { scope, actions };
    scopes.set(logic, inert);
  }
  inert.actions.length = 0;
  const next = logic.transition(snapshot as never, event as never, inert.scope);
  return [next, inert.actions.slice()];
};
