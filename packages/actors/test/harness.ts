import { MemoryStorage, VirtualClock, seededRandom, type Envelope } from "@atelier/events";
import { openWorkspace, type RunnerSink, type Workspace, type WorkspaceOptions } from "@atelier/actors";

/** Lets every pending microtask and storage sync run (the memory storage syncs in microtasks). */
export const flush = async (rounds = 3) => {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
};

export interface Harness {
  storage: MemoryStorage;
  clock: VirtualClock;
  open(overrides?: Partial<WorkspaceOptions>): Promise<Workspace>;
}

export const harness = (seed = 1): Harness => {
  const storage = new MemoryStorage();
  const clock = new VirtualClock(Date.UTC(2026, 10, 23, 10));
  const random = seededRandom(seed);
  return {
    storage,
    clock,
    open: (overrides = {}) => openWorkspace("/ws", { workspace: "ws_test", storage, clock, random, fsync: "batch", ...overrides }),
  };
};

/** Every logged envelope. */
export const logOf = (ws: Workspace): Envelope[] => [...ws.log.read()];
export const typesOf = (ws: Workspace, from = 1): string[] => [...ws.log.read({ from })].map((e) => e.type);

/** Opens the workspace with agent claude registered and a recording runner connected for it. */
export const openWithRunner = async (h: Harness, overrides: Partial<WorkspaceOptions> = {}) => {
  const ws = await h.open(overrides);
  await ws.agents.register({ agentId: "claude", vendor: "claude", model: "opus" });
  const runner = recordingRunner();
  await ws.runners.connect("claude", runner.sink);
  return { ws, runner };
};

/** A runner that records what it was sent. */
export const recordingRunner = () => {
  const dispatched: { promptId: string; text: string; attempt: number }[] = [];
  const aborted: string[] = [];
  const closed: string[] = [];
  const sink: RunnerSink = {
    dispatch: (p) => dispatched.push(p),
    abort: (id) => aborted.push(id),
    close: (reason) => closed.push(reason),
  };
  return { sink, dispatched, aborted, closed };
};
