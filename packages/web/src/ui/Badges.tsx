import { Show, type JSX } from "solid-js";
import { colorOf, initials, vendorLabel } from "../model/colors.ts";

export const Dot = (p: { id: string; size?: number }) => (
  <span class="dot" style={{ background: colorOf(p.id), width: `${p.size ?? 10}px`, height: `${p.size ?? 10}px` }} />
);

export const VendorChip = (p: { vendor: string }) => <span class={`chip vendor vendor-${p.vendor}`}>{vendorLabel(p.vendor)}</span>;

export const AgentName = (p: { id: string; vendor?: string; model?: string }) => (
  <span class="agent-name" data-agent={p.id}>
    <Dot id={p.id} />
    <b style={{ color: colorOf(p.id) }}>{p.id}</b>
    <Show when={p.vendor}>
      <VendorChip vendor={p.vendor!} />
    </Show>
    <Show when={p.model}>
      <span class="model">{p.model}</span>
    </Show>
  </span>
);

export const Avatar = (p: { id: string; name?: string; active?: boolean; title?: string }) => (
  <span class="avatar" style={{ background: colorOf(p.id) }} title={p.title ?? p.name ?? p.id} data-person={p.id}>
    {initials(p.name ?? p.id)}
    <Show when={p.active}>
      <span class="active-dot" />
    </Show>
  </span>
);

export const StatusBadge = (p: { status: string; children?: JSX.Element }) => <span class={`status status-${p.status}`}>{p.children ?? p.status}</span>;

export const fmtTokens = (n: number): string => (n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : String(n));
/** `n noun`, the noun in the plural unless n is 1 ("1 tool call", "4 tool calls"). */
export const fmtCount = (n: number, noun: string, plural = `${noun}s`): string => `${n.toLocaleString()} ${n === 1 ? noun : plural}`;
export const fmtCost = (c: number): string => `$${c < 1 ? c.toFixed(4) : c.toFixed(2)}`;
export const fmtDuration = (ms: number): string => {
  if (ms < 0) return "expired";
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  return s >= 3600 ? `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m` : s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s` : `${s}s`;
};
/** How long ago, coarsely: "just now", "5 min ago", "3 h ago", "2 d ago". */
export const fmtAgo = (ms: number): string =>
  ms < 60_000 ? "just now" : ms < 3_600_000 ? `${Math.floor(ms / 60_000)} min ago` : ms < 86_400_000 ? `${Math.floor(ms / 3_600_000)} h ago` : `${Math.floor(ms / 86_400_000)} d ago`;
export const fmtTime = (ms: number): string => (ms ? new Date(ms).toISOString().slice(11, 19) : "");
