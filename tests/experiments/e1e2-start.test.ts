// E1 (zero start) and E2 (first gradients, exact first Adam step) of lora-math.md section 5.
import { describe, expect, it } from 'vitest';
import { referenceForward, referenceGradients } from '../../src/reference/toyReference.ts';
import { refConfig, refTensors, runGpu, smallConfig } from './toyHarness.ts';

describe('E1: both inits start at the pretrained model', () => {
  for (const init of ['A', 'B'] as const) {
    it(`Init[${init}]: step-1 loss is the base model's, ||Z_B|| = 0${init === 'B' ? ', ||Z_A|| = 0' : ''}`, async () => {
      const config = smallConfig({ init, steps: 1 });
      const gpu = await runGpu(config);
      const t = refTensors(gpu.tensors);
      const zeroA = new Float64Array(config.rank * config.n);
      const zeroB = new Float64Array(config.n * config.rank);
      const base = referenceForward(t, refConfig(config), zeroA, zeroB); // the model without any adapter
      const first = gpu.rows[0];
      expect(first.step).toBe(1);
      expect(Math.abs(first.loss - base.loss)).toBeLessThanOrEqual(1e-5 * base.loss);
      expect(first.zB).toBe(0);
      expect(first.normSBA).toBe(0);
      if (init === 'B') expect(first.zA).toBe(0);
      else expect(first.zA).toBeGreaterThan(0);
    });
  }
});

describe('E2: the first step moves only the random-free factor, by exactly its learning rate', () => {
  for (const init of ['A', 'B'] as const) {
    it(`Init[${init}]`, async () => {
      const eta = 1e-3;
      const lambda = 16;
      const config = smallConfig({ init, steps: 1, eta, lambda, activation: 'tanh' }); // tanh: no dead units, every gradient entry nonzero
      const gpu = await runGpu(config);
      const t = refTensors(gpu.tensors);
      const g = referenceGradients(t, refConfig(config), gpu.tensors.A, gpu.tensors.B);
      const [still, stillInit, moved, movedInit, grad, lr] =
        init === 'A' ? [gpu.A, gpu.tensors.A, gpu.B, gpu.tensors.B, g.dB, lambda * eta] : [gpu.B, gpu.tensors.B, gpu.A, gpu.tensors.A, g.dA, eta];
      // The factor multiplied by a zero factor gets an exactly zero gradient: Adam leaves it bit-identical.
      expect(Array.from(still)).toEqual(Array.from(stillInit));
      let checked = 0;
      for (let i = 0; i < moved.length; i++) {
        const gi = grad[i];
        if (Math.abs(gi) < 1e-6) continue; // too close to eps for the step to be lr: skip, as the spec allows
        const delta = moved[i] - movedInit[i];
        const want = -Math.sign(gi) * lr * (Math.abs(gi) / (Math.abs(gi) + config.eps));
        // First Adam step: m_hat / sqrt(v_hat) = sign(g). f32 rounding of theta (|theta| ~ 0.5) is ~3e-8.
        expect(Math.abs(delta - want), `entry ${i}: moved ${delta}, expected ${want}`).toBeLessThan(1e-3 * lr + 1e-7);
        checked++;
      }
      expect(checked).toBeGreaterThan(moved.length / 2);
    });
  }
});
