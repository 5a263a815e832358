import { defineConfig } from "vite";
import solid from "vite-plugin-solid";

// The studio is served by `atelier start` from packages/web/dist; relative asset URLs keep it
// working under any mount point.
export default defineConfig({
  root: import.meta.dirname,
  base: "./",
  plugins: [solid()],
  build: { outDir: "dist", emptyOutDir: true, target: "es2022", chunkSizeWarningLimit: 2000 },
  server: { proxy: { "/api": { target: "http://127.0.0.1:7070", ws: true } } },
});
