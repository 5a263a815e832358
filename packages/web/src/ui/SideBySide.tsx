/** Fan-outs of one prompt to several agents, their outcomes in one table each (UI.md: vendors side by side on one task). */
import { createMemo, For, Show } from "solid-js";
import { sideBySide, type SideBySideRow } from "../model/compare.ts";
import { AgentName, fmtCost, fmtDuration, fmtTokens, StatusBadge } from "./Badges.tsx";
import type { Session } from "./session.ts";

type Measure = "answeredInMs" | "tokens" | "cost";

/** The lowest value of a measure among answered rows, when at least two can be compared. */
const lowest = (rows: readonly SideBySideRow[], measure: Measure): number | null => {
  const values = rows.map((r) => r[measure]).filter((v): v is number => v !== null);
  return values.length > 1 ? Math.min(...values) : null;
};

const MEASURES: ReadonlyArray<{ key: Measure; fmt: (v: number) => string }> = [
  { key: "answeredInMs", fmt: fmtDuration },
  { key: "tokens", fmt: fmtTokens },
  { key: "cost", fmt: fmtCost },
];

const clip = (text: string, max: number): string => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

export const SideBySidePanel = (p: { session: Session }) => {
  // The newest two: the panel shows them above the plots.
  const groups = createMemo(() => sideBySide(p.session.view().chat, 2));
  const vendorOf = (agent: string) => p.session.view().agents.find((a) => a.id === agent)?.vendor;
  return (
    <Show when={groups().length > 0}>
      <h3>One prompt, several agents</h3>
      <For each={groups()}>
        {(g) => (
          <div class="side-by-side" data-testid="side-by-side" data-seq={g.seq}>
            <p class="muted small" title={g.text}>
              {g.author}: “{clip(g.text, 90)}”
            </p>
            <table class="vendors">
              <thead>
                <tr>
                  <th>agent</th>
                  <th>status</th>
                  <th>answered in</th>
                  <th>tokens</th>
                  <th>cost</th>
                </tr>
              </thead>
              <tbody>
                <For each={g.rows}>
                  {(r) => (
                    <tr data-agent={r.agent}>
                      <td>
                        <AgentName id={r.agent} vendor={vendorOf(r.agent)} />
                      </td>
                      <td>
                        <StatusBadge status={r.status} />
                      </td>
                      <For each={MEASURES}>
                        {(m) => {
                          const value = r[m.key];
                          return (
                            <td classList={{ best: value !== null && value === lowest(g.rows, m.key) }} data-measure={m.key}>
                              {value === null ? "—" : m.fmt(value)}
                            </td>
                          );
                        }}
                      </For>
                    </tr>
                  )}
                </For>
              </tbody>
            </table>
          </div>
        )}
      </For>
    </Show>
  );
};
