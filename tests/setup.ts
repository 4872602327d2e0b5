// Every GPU job in the tests runs inside checked error scopes (buildInArena) or a session that fails on
// GPU errors: an error WebGPU raised outside them on the shared device reaches the process-wide host
// (src/gpu/host.ts), and fails the test during which it was raised, instead of going unnoticed. A test
// that raises one on purpose empties `nodeGpuHost().errors` itself.
import { afterEach } from 'vitest';
import { nodeGpuHost } from '../src/gpu/node.ts';

afterEach(() => {
  const fresh = nodeGpuHost().errors.splice(0);
  if (fresh.length) throw new Error(`${fresh.length} WebGPU error(s) outside an error scope, the first: ${fresh[0].message}`);
});
