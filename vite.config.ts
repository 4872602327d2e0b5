import { defineConfig } from 'vitest/config';
import react from '@vitejs/plugin-react';

// One config for the app (vite build/preview) and the tests (vitest).
export default defineConfig({
  plugins: [react()],
  base: './',
  build: { target: 'es2022', sourcemap: true, chunkSizeWarningLimit: 2000 },
  server: { host: '127.0.0.1', port: 5173 },
  test: {
    include: ['tests/**/*.test.ts', 'src/**/*.test.ts'],
    exclude: ['tests/e2e/**', 'node_modules/**'],
    // Fails a test during which WebGPU raised an error outside an error scope (tests/setup.ts).
    setupFiles: ['tests/setup.ts'],
    environment: 'node',
    // Dawn/SwiftShader is a process-wide singleton and the machine has 2 cores: one worker avoids thrashing.
    pool: 'forks',
    fileParallelism: false,
    // One process for every file: the Dawn device and its compiled pipelines (seconds each on SwiftShader) are reused.
    isolate: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
