/** Events near the cursor (filtered), newest first. */
import { createMemo, For } from "solid-js";
import { Dot } from "../Badges.tsx";
import type { Session } from "../session.ts";
import { laneOf } from "../../model/derived.ts";
import { indexAtOrBefore } from "../../model/timeline.ts";

export const EventList = (p: { session: Session }) => {
  const rows = createMemo(() => {
    p.session.version();
    const events = p.session.replay.events;
    const seq = p.session.seq();
    const out: (typeof events)[number][] = [];
    for (let i = indexAtOrBefore(events, seq); i >= 0 && out.length < 40; i--) if (p.session.matches(events[i]!)) out.push(events[i]!);
    return out;
  });
  const diverged = createMemo(() => {
    p.session.version();
    return new Set(p.session.replay.divergences.map((d) => d.seq));
  });
  return (
    <section class="panel events" aria-label="Events">
      <h2>
        Events <span class="muted small">up to #{p.session.seq()}</span>
      </h2>
      <ol class="event-list" data-testid="events">
        <For each={rows()}>
          {(e) => {
            const lane = laneOf(e);
            return (
              <li classList={{ current: e.seq === p.session.seq(), diverged: diverged().has(e.seq) }} onClick={() => p.session.seek(e.seq)} title={JSON.stringify(e.payload)}>
                <span class="seq">#{e.seq}</span> <Dot id={lane} size={7} /> <span class="etype">{e.type}</span> <span class="muted">{e.entity}</span>
              </li>
            );
          }}
        </For>
      </ol>
    </section>
  );
};
