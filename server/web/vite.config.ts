import { defineConfig } from 'vite';

// The console is static files the server serves from server/web/dist: no CDN, no inline script
// (the server's Content-Security-Policy allows only 'self').
export default defineConfig({
  root: '.',
  base: '/',
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, target: 'es2022', assetsInlineLimit: 0 },
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
});
