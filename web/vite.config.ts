/// <reference types="vitest" />
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// Two pages, one build: the clinician app at / and the patient portal at /portal/.
// The carechart binary serves web/dist; nothing is fetched from the internet at run time.
export default defineConfig({
  plugins: [react()],
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 900,
    rollupOptions: {
      input: {
        clinician: fileURLToPath(new URL('./index.html', import.meta.url)),
        portal: fileURLToPath(new URL('./portal/index.html', import.meta.url)),
      },
    },
  },
  server: {
    // `npm run dev` proxies the API to a running carechart (CARECHART_API, default :8080).
    proxy: Object.fromEntries(
      ['/fhir', '/auth', '/.well-known'].map((p) => [
        p,
        // Keep the Host header: the server derives its token audience from it.
        { target: process.env.CARECHART_API ?? 'http://127.0.0.1:8080', changeOrigin: false },
      ]),
    ),
  },
  test: {
    environment: 'jsdom',
    globals: true,
    include: ['src/**/*.test.{ts,tsx}'],
    setupFiles: ['src/test-setup.ts'],
  },
});
