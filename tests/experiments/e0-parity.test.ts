// E0 (lora-math.md section 5): from the tensors of an exchange file, 10 AdamW steps on the GPU match the
// float64 reference: loss, ||Z_A||, ||Z_B|| every step and the final A, B within 1e-3 relative.
import { describe, expect, it } from 'vitest';
import { defaultToyConfig } from '../../src/experiments/toy/config.ts';
import { drawToyTensors, fromExchange, toExchange } from '../../src/experiments/toy/data.ts';
import { withTeacherTargets } from '../../src/experiments/toy/trainer.ts';
import { testGpu } from '../gpu.ts';
import { relErr } from '../reference/linalg.ts';
import { referenceTrain } from '../reference/toyReference.ts';
import { close, refConfig, refTensors, runGpu, smallConfig } from './toyHarness.ts';

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
      const gpu = await runGpu(loaded.config, loaded.tensors);
      const ref = referenceTrain(refTensors(loaded.tensors), refConfig(loaded.config));

      expect(gpu.rows.map((r) => r.step)).toEqual(ref.steps.map((r) => r.step));
      for (let i = 0; i < ref.steps.length; i++) {
        const g = gpu.rows[i];
        const w = ref.steps[i];
        // fp32 with reductions of at most a few hundred terms: 1e-3 relative is the spec's bound.
        expect(close(g.loss, w.loss, 1e-3, 1e-12), `loss at step ${w.step}: ${g.loss} vs ${w.loss}`).toBe(true);
        expect(close(g.zA, w.zA, 1e-3, 1e-6), `zA at step ${w.step}: ${g.zA} vs ${w.zA}`).toBe(true);
        expect(close(g.zB, w.zB, 1e-3, 1e-6), `zB at step ${w.step}: ${g.zB} vs ${w.zB}`).toBe(true);
        expect(close(g.normSBA, w.normSBA, 1e-3, 1e-6), `||sBA|| at step ${w.step}`).toBe(true);
      }
      expect(relErr(gpu.A, ref.A)).toBeLessThan(1e-3);
      expect(relErr(gpu.B, ref.B)).toBeLessThan(1e-3);
    });
  }
});
