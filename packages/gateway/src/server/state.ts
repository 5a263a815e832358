import { listAgents, listLocks, listMessages, promptQueue, workspaceStatus } from "@atelier/projections";
import type { WorkspaceHost } from "./host.ts";

/** One line of `GET /workspaces`. */
export const workspaceSummary = (host: WorkspaceHost) => {
  const s = workspaceStatus(host.projection);
  return {
    id: host.id,
    name: s?.name ?? host.id,
    state: s?.status ?? "creating",
    demo: host.demo,
    createdAt: s?.createdAt ?? null,
    lastActivityAt: s?.lastActivityAt ?? null,
    agents: s?.agents ?? 0,
    agentsOnline: s?.agentsOnline ?? 0,
    openPrompts: s?.openPrompts ?? 0,
    heldLocks: s?.heldLocks ?? 0,
    lastSeq: host.projection.seq,
  };
};

/**
 * The whole state a studio needs to draw a workspace, read from the projection at one seq:
 * `lastSeq` is that seq, so live events continue exactly after it.
 */
export const workspaceState = (host: WorkspaceHost) => {
  const status = workspaceStatus(host.projection);
  return {
    workspace: { ...status, state: status?.status ?? "creating", demo: host.demo },
    agents: listAgents(host.projection),
    locks: listLocks(host.projection),
    queue: promptQueue(host.projection),
    lastSeq: host.projection.seq,
  };
};

/** The init payload of a studio socket (004): the state plus recent messages and who is here. */
export const initPayload = (host: WorkspaceHost, you: { id: string; name: string; role: string }) => ({
  type: "init" as const,
  ...workspaceState(host),
  messages: listMessages(host.projection, { limit: 50 }).items.reverse(),
  presence: host.presence(),
  you,
});
