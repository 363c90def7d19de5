import { defineConfig } from "vite";

// The client package is consumed from its TypeScript source (the `xmargin-source`
// export condition, as the tests do), so the dashboard never needs `app/dist`.
export default defineConfig({
  base: "./",
  resolve: { conditions: ["xmargin-source", "browser", "module", "import", "default"] },
  define: { "process.env.NODE_DEBUG": "undefined", "process.env.ANCHOR_BROWSER": "true" },
  build: { target: "es2022", chunkSizeWarningLimit: 2_000, sourcemap: true },
  server: { host: "127.0.0.1", port: 5173 },
  preview: { host: "127.0.0.1", port: 4173 },
});
