import { atelierCatalogue } from "@atelier/actors/machines";
import { agentProjectors } from "./agents.ts";
import { contextProjectors } from "./context.ts";
import { lockProjectors } from "./locks.ts";
import { promptProjectors } from "./prompts.ts";
import { defineProjectors } from "./registry.ts";
import { taskProjectors } from "./tasks.ts";
import { toolProjectors } from "./tools.ts";
import { workspaceProjectors } from "./workspace.ts";

/**
 * The projectors of every actor event. The version names their combined logic: bump it whenever
 * any projector's output changes, and every projection rebuilds itself on its next open.
 */
export const atelierProjectors = defineProjectors(atelierCatalogue, "atelier@2", {
  ...workspaceProjectors,
  ...agentProjectors,
  ...toolProjectors,
  ...lockProjectors,
  ...promptProjectors,
  ...taskProjectors,
  ...contextProjectors,
});
