import type { EnqueueSpec } from "@atelier/actors";
import { ApiError, notFound } from "../http/errors.ts";
import type { WorkspaceHost } from "./host.ts";

/**
 * Queues a prompt for an agent, from REST or a studio socket alike: the agent must exist and the
 * workspace must still take work (a hibernated one is woken by the prompt itself).
 */
export const enqueuePrompt = (host: WorkspaceHost, agent: string, spec: EnqueueSpec) => {
  if (!host.ws.agents.get(agent)) throw notFound(`no agent ${agent} in workspace ${host.id}`);
  const state = host.ws.status();
  if (state === "terminating" || state === "terminated") {
    throw new ApiError(409, "refused", `workspace ${host.id} is ${state}; it takes no prompts`, { entity: "workspace", state });
  }
  return host.ws.prompts.enqueue(agent, spec);
};

/** Where a prompt stands in its agent's queue right now. */
export const promptState = (host: WorkspaceHost, agent: string, promptId: string): string => {
  const q = host.ws.prompts.get(agent);
  if (q?.processing === promptId) return "processing";
  if (q?.queued.includes(promptId)) return "queued";
  return "finished";
};
