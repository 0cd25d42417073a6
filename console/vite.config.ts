/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The console is served by the api at `/`; `npm run dev` proxies the API to a
// local `opsconductor dev` (OPSC_API, default http://127.0.0.1:8080).
const api = process.env.OPSC_API ?? 'http://127.0.0.1:8080';

export default defineConfig({
  plugins: [react()],
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    sourcemap: false,
    // No inline <script> or <style> may appear: the api's CSP forbids them.
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 600,
  },
  server: { proxy: { '/api': { target: api, changeOrigin: false } } },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.{ts,tsx}'],
    setupFiles: ['src/testSetup.ts'],
    // A page test renders a whole room in jsdom; on a loaded 2-core CI machine one
    // took 8 s where it takes 1 s here. The default 5 s limit measured the machine,
    // not the code; speed is measured by the benchmarks, never by tests.
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
