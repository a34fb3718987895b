import react from '@vitejs/plugin-react';
import {defineConfig} from 'vitest/config';

export default defineConfig({
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // Polaris alone is about a megabyte unminified; the warning is noise here.
    chunkSizeWarningLimit: 2000,
  },
  test: {
    environment: 'jsdom',
    globals: true,
    setupFiles: ['src/test/setup.ts'],
    include: ['src/**/*.test.{ts,tsx}'],
    css: false,
    restoreMocks: true,
    // Timeouts guard against hangs, they measure nothing: on a shared
    // 2-core machine a Polaris page can take tens of seconds to render in
    // jsdom, and a test that passes only on an idle machine is a defect.
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
