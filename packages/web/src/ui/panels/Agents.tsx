/** Agent panel: one badge per agent. */
import { For, Show } from "solid-js";
import type { AgentView } from "../../model/view.ts";
import { colorOf } from "../../model/colors.ts";
import { AgentName, fmtCost, fmtTokens, StatusBadge } from "../Badges.tsx";
import type { Session } from "../session.ts";

export const AgentPanel = (p: { session: Session }) => (
  <section class="panel agents" aria-label="Agents">
    <h2>Agents</h2>
    <ul>
      <For each={p.session.view().agents} fallback={<li class="empty">No agents yet</li>}>
        {(a: AgentView) => (
          <li class="agent-card" data-testid="agent-badge" data-agent={a.id} data-status={a.status} style={{ "border-left-color": colorOf(a.id) }}>
            <div class="row">
              <AgentName id={a.id} vendor={a.vendor} />
              <StatusBadge status={a.status} />
            </div>
            <div class="row small">
              <span class="model">{a.model}</span>
              <span title="queued prompts" data-testid="queue-depth">
                queue {a.queueDepth}
              </span>
            </div>
            <div class="row small muted">
              <span title={`in ${a.tokensIn} / out ${a.tokensOut}`}>{fmtTokens(a.tokensIn + a.tokensOut)} tok</span>
              <span>{fmtCost(a.cost)}</span>
              <span>{a.promptsDone} done</span>
            </div>
            <Show when={a.lastError}>
              <div class="error small">{a.lastError}</div>
            </Show>
          </li>
        )}
      </For>
    </ul>
  </section>
);
