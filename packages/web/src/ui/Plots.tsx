/**
 * Plain SVG plots: lock wait and prompt queue wait over time (one dot per wait, agent colour),
 * cumulative tokens and cost per agent, one prompt's outcomes side by side, and lock contention by
 * file (who blocked whom).
 */
import { createMemo, For, Show } from "solid-js";
import { colorOf } from "../model/colors.ts";
import type { UsagePoint } from "../model/derived.ts";
import { fmtCost, fmtDuration, fmtTokens } from "./Badges.tsx";
import { SideBySidePanel } from "./SideBySide.tsx";
import type { Session } from "./session.ts";

const W = 320;
const H = 120;
const PAD = { l: 40, r: 8, t: 8, b: 18 };

const stride = <T,>(xs: readonly T[], max: number): readonly T[] => {
  if (xs.length <= max) return xs;
  const step = xs.length / max;
  const out: T[] = [];
  for (let i = 0; i < max; i++) out.push(xs[Math.floor(i * step)]!);
  return out;
};

interface Pt {
  readonly t: number;
  readonly v: number;
  readonly who: string;
}

const Scatter = (p: { title: string; points: readonly Pt[]; t0: number; t1: number; cursorT: number; fmt: (v: number) => string; testid: string }) => {
  const maxV = () => p.points.reduce((m, x) => (x.v > m ? x.v : m), 1);
  const x = (t: number) => PAD.l + ((t - p.t0) / Math.max(1, p.t1 - p.t0)) * (W - PAD.l - PAD.r);
  const y = (v: number) => H - PAD.b - (v / maxV()) * (H - PAD.t - PAD.b);
  return (
    <figure class="plot" data-testid={p.testid}>
      <figcaption>
        {p.title} <span class="muted small">({p.points.length})</span>
      </figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={p.title}>
        <line x1={PAD.l} y1={H - PAD.b} x2={W - PAD.r} y2={H - PAD.b} class="axis" />
        <line x1={PAD.l} y1={PAD.t} x2={PAD.l} y2={H - PAD.b} class="axis" />
        <text x={PAD.l - 4} y={PAD.t + 8} class="tick" text-anchor="end">
          {p.fmt(maxV())}
        </text>
        <text x={PAD.l - 4} y={H - PAD.b} class="tick" text-anchor="end">
          0
        </text>
        <For each={stride(p.points, 1500)}>{(pt) => <circle cx={x(pt.t)} cy={y(pt.v)} r="1.8" fill={colorOf(pt.who)} />}</For>
        <line x1={x(p.cursorT)} x2={x(p.cursorT)} y1={PAD.t} y2={H - PAD.b} class="cursor" />
      </svg>
    </figure>
  );
};

const Lines = (p: { title: string; series: ReadonlyMap<string, readonly UsagePoint[]>; pick: (u: UsagePoint) => number; t0: number; t1: number; cursorT: number; fmt: (v: number) => string; testid: string }) => {
  const maxV = () => Math.max(0, ...[...p.series.values()].map((s) => (s.length ? p.pick(s[s.length - 1]!) : 0)));
  const x = (t: number) => PAD.l + ((t - p.t0) / Math.max(1, p.t1 - p.t0)) * (W - PAD.l - PAD.r);
  const y = (v: number) => H - PAD.b - (v / (maxV() || 1)) * (H - PAD.t - PAD.b);
  const path = (s: readonly UsagePoint[]) => {
    const pts = stride(s, 600);
    if (pts.length === 0) return "";
    return `M${x(p.t0)},${y(0)} ` + pts.map((u) => `L${x(u.at).toFixed(1)},${y(p.pick(u)).toFixed(1)}`).join(" ");
  };
  return (
    <figure class="plot" data-testid={p.testid}>
      <figcaption>{p.title}</figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={p.title}>
        <line x1={PAD.l} y1={H - PAD.b} x2={W - PAD.r} y2={H - PAD.b} class="axis" />
        <line x1={PAD.l} y1={PAD.t} x2={PAD.l} y2={H - PAD.b} class="axis" />
        <text x={PAD.l - 4} y={PAD.t + 8} class="tick" text-anchor="end">
          {p.fmt(maxV())}
        </text>
        <For each={[...p.series.entries()]}>{([agent, s]) => <path d={path(s)} stroke={colorOf(agent)} fill="none" stroke-width="1.5" />}</For>
        <line x1={x(p.cursorT)} x2={x(p.cursorT)} y1={PAD.t} y2={H - PAD.b} class="cursor" />
      </svg>
    </figure>
  );
};

export const Plots = (p: { session: Session }) => {
  const s = p.session;
  // Read on each version, not kept: a rebase replaces the replay's derived indexes.
  const d = () => s.replay.derived;
  const span = createMemo(() => {
    s.version();
    const ev = s.replay.events;
    return { t0: ev.length ? s.replay.timeAt(ev[0]!.seq) : 0, t1: ev.length ? s.replay.timeAt(ev[ev.length - 1]!.seq) : 1 };
  });
  const cursorT = () => s.view().time;
  const lockPts = createMemo(() => {
    s.version();
    return d().lockWaits.map((w) => ({ t: w.at, v: w.waitMs, who: w.agent }));
  });
  const queuePts = createMemo(() => {
    s.version();
    return d().queueWaits.map((w) => ({ t: w.at, v: w.waitMs, who: w.agent }));
  });
  const usage = createMemo(() => {
    s.version();
    return new Map(d().usage);
  });
  const contention = createMemo(() => {
    s.version();
    const by = new Map<string, { waits: number; totalMs: number; blockers: Map<string, number> }>();
    for (const w of d().lockWaits) {
      const r = by.get(w.path) ?? { waits: 0, totalMs: 0, blockers: new Map() };
      r.waits++;
      r.totalMs += w.waitMs;
      for (const b of w.blockers) r.blockers.set(`${b}→${w.agent}`, (r.blockers.get(`${b}→${w.agent}`) ?? 0) + 1);
      by.set(w.path, r);
    }
    return [...by.entries()].sort((a, b) => b[1].totalMs - a[1].totalMs).slice(0, 8);
  });
  const maxWait = () => Math.max(1, ...contention().map(([, r]) => r.totalMs));
  return (
    <section class="panel plots" aria-label="Plots">
      <h2>Plots</h2>
      <SideBySidePanel session={s} />
      <div class="plot-grid">
        <Scatter title="Lock wait" testid="plot-lock-wait" points={lockPts()} t0={span().t0} t1={span().t1} cursorT={cursorT()} fmt={fmtDuration} />
        <Scatter title="Prompt queue wait" testid="plot-queue-wait" points={queuePts()} t0={span().t0} t1={span().t1} cursorT={cursorT()} fmt={fmtDuration} />
        <Lines title="Tokens per agent" testid="plot-tokens" series={usage()} pick={(u) => u.tokens} t0={span().t0} t1={span().t1} cursorT={cursorT()} fmt={fmtTokens} />
        <Lines title="Cost per agent" testid="plot-cost" series={usage()} pick={(u) => u.cost} t0={span().t0} t1={span().t1} cursorT={cursorT()} fmt={fmtCost} />
      </div>
      <table class="vendors" data-testid="vendor-table">
        <thead>
          <tr>
            <th>agent</th>
            <th>prompts</th>
            <th>tokens</th>
            <th>cost</th>
          </tr>
        </thead>
        <tbody>
          <For each={s.view().agents}>
            {(a) => (
              <tr>
                <td>
                  <span class="dot" style={{ background: colorOf(a.id) }} /> {a.id} <span class="muted small">{a.vendor}</span>
                </td>
                <td>{a.promptsDone}</td>
                <td>{fmtTokens(a.tokensIn + a.tokensOut)}</td>
                <td>{fmtCost(a.cost)}</td>
              </tr>
            )}
          </For>
        </tbody>
      </table>
      <Show when={contention().length > 0}>
        <h3>Lock contention by file</h3>
        <ul class="heat">
          <For each={contention()}>
            {([path, r]) => (
              <li title={[...r.blockers].map(([k, n]) => `${k} ×${n}`).join("\n")}>
                <span class="bar" style={{ width: `${(r.totalMs / maxWait()) * 100}%` }} />
                <span class="label">
                  {path} · {r.waits} waits · {fmtDuration(r.totalMs)}
                </span>
              </li>
            )}
          </For>
        </ul>
      </Show>
    </section>
  );
};
