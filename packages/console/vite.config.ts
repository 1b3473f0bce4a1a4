import { defineConfig } from 'vite';

// `npm run dev -w @wharf/console` serves the console with hot reload and sends the
// API (and exec WebSockets) to the wharf-server named by WHARF_SERVER.
const server = process.env.WHARF_SERVER ?? 'http://127.0.0.1:7070';

export default defineConfig({
  build: {
    outDir: 'dist',
    sourcemap: true,
    chunkSizeWarningLimit: 2000,
    rollupOptions: {
      // react-router marks its modules "use client" for server rendering, which a plain SPA does not do.
      onwarn(warning, warn) {
        if (warning.code !== 'MODULE_LEVEL_DIRECTIVE') warn(warning);
      },
    },
  },
  server: { proxy: { '/v1': { target: server, ws: true } } },
});
