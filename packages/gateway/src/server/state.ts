import { listAgents, listLocks, listMessages, promptQueue, workspaceStatus } from "@atelier/projections";
import type { EndedRecord, WorkspaceRow } from "../catalog/workspaces.ts";
import type { Gateway, Unavailable } from "./gateway.ts";
import type { WorkspaceHost } from "./host.ts";

/** One line of `GET /workspaces` for a workspace whose folder is in the archive. */
export const hibernatedSummary = (gw: Gateway, row: WorkspaceRow) => ({
  id: row.id,
  name: row.name,
  state: row.state,
  demo: row.demo,
  createdAt: row.createdAt,
  lastActivityAt: row.archive?.lastActivityAt ?? null,
  // The same fields as an open workspace's line, so a list can draw either.
  agents: row.archive?.agents.length ?? 0,
  agentsOnline: 0,
  openPrompts: gw.workspaces.held(row.id).length,
  heldLocks: 0,
  lastSeq: row.archive?.head ?? null,
  heldPrompts: gw.workspaces.held(row.id).length,
  archive: row.archive && {
    archiveId: row.archive.archiveId,
    store: row.archive.store,
    mirror: row.archive.mirror,
    mirrorError: row.archive.mirrorError,
    hibernatedAt: new Date(row.archive.hibernatedAt).toISOString(),
    ...(row.archive.resumeError ? { resumeError: row.archive.resumeError } : {}),
  },
});

/** One line of `GET /workspaces` for a terminated workspace that is closed until someone reads it. */
export const endedSummary = (row: WorkspaceRow, ended: EndedRecord) => ({
  id: row.id,
  name: row.name,
  state: "terminated",
  demo: row.demo,
  createdAt: row.createdAt,
  lastActivityAt: ended.lastActivityAt,
  agents: ended.agents,
  agentsOnline: 0,
  openPrompts: 0,
  heldLocks: ended.heldLocks,
  lastSeq: ended.lastSeq,
});

/** The line of a workspace the start has not opened yet, or could not open (`error` says why). */
export const unservedSummary = (row: WorkspaceRow, state: "opening" | "unavailable", unavailable?: Unavailable) => ({
  id: row.id,
  name: row.name,
  state,
  demo: row.demo,
  createdAt: row.createdAt,
  lastActivityAt: null,
  ...(unavailable === undefined ? {} : { error: unavailable.reason, since: unavailable.since }),
});

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
