import { createSignal, Match, onCleanup, Switch } from "solid-js";
import { adoptToken } from "./api/client.ts";
import { Home } from "./ui/Home.tsx";
import { Studio } from "./ui/Studio.tsx";
import { Viewer } from "./ui/Viewer.tsx";

const route = () => window.location.hash.replace(/^#/, "") || "/";

export const App = () => {
  adoptToken();
  const [path, setPath] = createSignal(route());
  const onHash = () => setPath(route());
  window.addEventListener("hashchange", onHash);
  onCleanup(() => window.removeEventListener("hashchange", onHash));
  const wsId = () => /^\/ws\/([^/?]+)/.exec(path())?.[1];
  /** `#/ws/<id>?history=all|<events>`: how much of a long history the studio loads. */
  const history = (): number | "all" | undefined => {
    const h = new URLSearchParams(path().split("?")[1] ?? "").get("history");
    return h === "all" ? "all" : h !== null && /^\d+$/.test(h) ? Number(h) : undefined;
  };
  return (
    <div class="app">
      <header class="top">
        <a href="#/" class="brand">
          Atelier
        </a>
        <nav>
          <a href="#/">Workspaces</a>
          <a href="#/viewer">Timeline viewer</a>
        </nav>
      </header>
      <Switch fallback={<Home />}>
        <Match when={wsId()} keyed>
          {(id) => <Studio id={decodeURIComponent(id)} {...(history() !== undefined ? { recent: history()! } : {})} />}
        </Match>
        <Match when={path() === "/viewer"}>
          <Viewer />
        </Match>
      </Switch>
    </div>
  );
};
