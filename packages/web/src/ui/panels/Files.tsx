/** File tree with lock badges. */
import { createMemo, For, Show, type Accessor } from "solid-js";
import type { LockView } from "../../model/view.ts";
import { colorOf } from "../../model/colors.ts";
import { Dot, fmtDuration, fmtTime } from "../Badges.tsx";
import type { Session } from "../session.ts";

interface TreeNode {
  name: string;
  path: string;
  children: TreeNode[];
  file: boolean;
}

const buildTree = (paths: Iterable<string>): TreeNode => {
  const root: TreeNode = { name: "", path: "", children: [], file: false };
  for (const path of [...paths].sort()) {
    let node = root;
    const parts = path.split("/");
    parts.forEach((part, i) => {
      const file = i === parts.length - 1;
      const sub = parts.slice(0, i + 1).join("/");
      let child = node.children.find((c) => c.name === part && c.file === file);
      if (!child) {
        child = { name: part, path: sub, children: [], file };
        node.children.push(child);
      }
      node = child;
    });
  }
  const sort = (n: TreeNode) => {
    n.children.sort((a, b) => Number(a.file) - Number(b.file) || a.name.localeCompare(b.name));
    n.children.forEach(sort);
  };
  sort(root);
  return root;
};

const LockBadge = (p: { lock: LockView; now: number }) => {
  const holder = () => p.lock.holders[0];
  const lease = () => Math.min(...p.lock.holders.map((h) => h.expiresAt)) - p.now;
  return (
    <Show when={p.lock.holders.length > 0 || p.lock.waiters.length > 0}>
      <span
        class={`lock-badge lock-${p.lock.state}`}
        data-testid="lock-badge"
        data-path={p.lock.path}
        data-mode={p.lock.state}
        data-holder={p.lock.holders.map((h) => h.agent).join(",")}
        data-waiters={p.lock.waiters.length}
        title={
          p.lock.holders.map((h) => `${h.agent} holds ${h.mode} (token ${h.token}), lease ${fmtDuration(h.expiresAt - p.now)}`).join("\n") +
          (p.lock.waiters.length ? `\nwaiting: ${p.lock.waiters.map((w) => `${w.agent} (${w.mode}) since ${fmtTime(w.since)}`).join(", ")}` : "")
        }
      >
        <For each={p.lock.holders}>{(h) => <span class="holder" style={{ background: colorOf(h.agent) }}>{h.agent}</span>}</For>
        <Show when={holder()}>
          <span class="mode">{p.lock.state === "exclusive" ? "excl" : "shared"}</span>
          <span class="lease">{fmtDuration(lease())}</span>
        </Show>
        <Show when={p.lock.waiters.length > 0}>
          <span class="waiters" title="waiting">
            +{p.lock.waiters.length} waiting
            <For each={p.lock.waiters}>{(w) => <Dot id={w.agent} size={7} />}</For>
          </span>
        </Show>
      </span>
    </Show>
  );
};

export const FileTree = (p: { session: Session; now: Accessor<number> }) => {
  const locks = createMemo(() => new Map(p.session.view().locks.map((l) => [l.path, l])));
  // Keyed by the set of paths, so moving the cursor rebuilds the tree only when a file appears.
  const paths = createMemo(() => {
    const seq = p.session.seq();
    const known = [...p.session.replay.derived.files].filter(([, first]) => first <= seq).map(([path]) => path);
    return [...new Set([...known, ...locks().keys()])].sort().join("\n");
  });
  const tree = createMemo(() => buildTree(paths() ? paths().split("\n") : []));
  const held = () => p.session.view().locks.filter((l) => l.holders.length > 0).length;
  const Node = (n: { node: TreeNode; depth: number }) => (
    <Show
      when={n.node.file}
      fallback={
        <li class="dir">
          <div class="entry" style={{ "padding-left": `${n.depth * 12}px` }}>
            <span class="folder">▾</span> {n.node.name}
          </div>
          <ul>
            <For each={n.node.children}>{(c) => <Node node={c} depth={n.depth + 1} />}</For>
          </ul>
        </li>
      }
    >
      <li class="file" data-testid="file" data-path={n.node.path}>
        <div class="entry" style={{ "padding-left": `${n.depth * 12}px` }}>
          <span class="fname">{n.node.name}</span>
          <Show when={locks().get(n.node.path)}>{(l) => <LockBadge lock={l()} now={p.now()} />}</Show>
        </div>
      </li>
    </Show>
  );
  return (
    <section class="panel files" aria-label="Files">
      <h2>
        Files <span class="muted small">{held()} locked</span>
      </h2>
      <ul class="tree">
        <For each={tree().children} fallback={<li class="empty">No files touched yet</li>}>
          {(c) => <Node node={c} depth={0} />}
        </For>
      </ul>
    </section>
  );
};
