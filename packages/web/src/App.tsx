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
  const wsId = () => /^\/ws\/([^/]+)/.exec(path())?.[1];
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
          {(id) => <Studio id={decodeURIComponent(id)} />}
        </Match>
        <Match when={path() === "/viewer"}>
          <Viewer />
        </Match>
      </Switch>
    </div>
  );
};
