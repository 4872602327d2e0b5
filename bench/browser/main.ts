// The browser side of `npm run bench -- --browser`: the same suite on navigator.gpu, results left in
// window.__bench for the driver (bench/run.ts) to collect; progress lines go to the console.
import { createGpuContext } from '../../src/gpu/device.ts';
import { runSuite } from '../suite.ts';
import { TfjsPeer } from '../tfjs-peer.ts';

const params = new URLSearchParams(location.search);
const pre = document.getElementById('log')!;
const log = (line: string) => {
  console.log(`[bench] ${line}`);
  pre.textContent += `${line}\n`;
};
const w = window as { __bench?: unknown };

try {
  const ctx = await createGpuContext(navigator.gpu);
  let peer: TfjsPeer | null = null;
  let peerError: string | undefined;
  if (params.get('peer') !== '0') {
    try {
      peer = await TfjsPeer.create(ctx.device, () => import('../tfjs-entry.ts'));
    } catch (e) {
      peerError = (e as Error).message;
      log(`TF.js peer unavailable: ${peerError}`);
    }
  }
  const only = params.get('only')?.split(',').filter(Boolean);
  const n = params.get('n')?.split(',').map(Number);
  const result = await runSuite(ctx, { quick: params.get('quick') === '1', peer, peerError, log, only, n });
  w.__bench = { ok: true, result: { ...result, userAgent: navigator.userAgent } };
} catch (e) {
  log(`failed: ${(e as Error).stack ?? e}`);
  w.__bench = { ok: false, error: String((e as Error).stack ?? e) };
}
