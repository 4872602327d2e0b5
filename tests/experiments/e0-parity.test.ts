// E0 (lora-math.md section 5): from the tensors of an exchange file, 10 AdamW steps on the GPU match the
// float64 reference: loss, ||Z_A||, ||Z_B|| every step and the final A, B within 1e-3 relative (the
// comparison is src/selfcheck/toyRuns.ts's checkToyParity, the self-check's own).
import { describe, expect, it } from 'vitest';
import { defaultToyConfig } from '../../src/experiments/toy/config.ts';
import { drawToyTensors, fromExchange, toExchange } from '../../src/experiments/toy/data.ts';
import { withTeacherTargets } from '../../src/experiments/toy/trainer.ts';
import { checkToyParity, smallConfig } from '../../src/selfcheck/toyRuns.ts';
import { testGpu, testHost } from '../gpu.ts';

describe('E0 parity with the float64 reference', () => {
  const cases = [
    { name: 'Init[A], relu, LoRA+ lambda 16', over: { init: 'A', activation: 'relu', lambda: 16, eta: 2e-3 } },
    { name: 'Init[B], tanh, rsLoRA, weight decay', over: { init: 'B', activation: 'tanh', lambda: 4, eta: 1e-3, rslora: true, wd: 0.1 } },
    { name: 'Init[A] uniform, gelu, r = 1', over: { init: 'A', initDist: 'uniform', activation: 'gelu', rank: 1, alpha: 2, eta: 1e-3, lambda: 2 } },
  ] as const;

  for (const { name, over } of cases) {
    it(name, async () => {
      const config = smallConfig(over);
      const ctx = await testGpu();
      // Through the exchange file's JSON, as a user's parity check would go.
      const file = JSON.parse(JSON.stringify(toExchange(config, await withTeacherTargets(ctx, config, drawToyTensors(config)))));
      const loaded = fromExchange(file, defaultToyConfig());
      expect(loaded.config.steps).toBe(10);
      const r = await checkToyParity(testHost(), loaded.config, loaded.tensors);
      expect(r.pass, r.detail).toBe(true);
    });
  }
});
