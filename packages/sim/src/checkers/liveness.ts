import type { World } from "../world/world.ts";
import type { MirrorChecker } from "./mirror.ts";

/** Where the workspace may rest once the liveness phase has converged. */
export const SETTLED: ReadonlySet<string> = new Set(["active", "idle", "hibernated"]);

/**
 * I21 (and I22 with `settled` = terminated): what must be true once a phase has converged.
 * Returns what is not (yet): an empty list means converged. The phase fails if the list is not
 * empty within the bound.
 */
export const unconverged = (world: World, mirror: MirrorChecker, settled: ReadonlySet<string> = SETTLED): string[] => {
  const host = world.host;
  if (!host?.alive) return ["the workspace host is down"];
  const out: string[] = [];
  const model = world.syncedModel();
  const pending = world.clients.flatMap((c) => c.pending().map((p) => p.requestId));
  if (pending.length > 0) out.push(`prompts never acknowledged: ${pending.join(", ")}`);
  const open = model.openPrompts();
  if (open.length > 0) out.push(`prompts not terminated: ${open.map((id) => `${id} (${model.prompts.get(id)!.status})`).join(", ")}`);
  const held = model.heldLocks();
  if (held.length > 0) out.push(`locks still held: ${held.join(", ")}`);
  const status = host.ws.status();
  if (!settled.has(status)) out.push(`workspace is ${status}`);
  if (!mirror.caughtUp(host)) out.push(`mirror behind: ${host.mirror.status().mirroredHead}/${host.ws.log.head()} (${host.mirror.status().state})`);
  const projected = world.projection.projection?.seq ?? 0;
  if (projected !== host.ws.log.head()) out.push(`projection at ${projected} of ${host.ws.log.head()}`);
  return out;
};
