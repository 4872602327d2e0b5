// A randomly initialised GPT-2 with the real shapes (GPT-2's own init: N(0, 0.02) weights, residual
// projections N(0, 0.02 / sqrt(2 L)), zero biases, unit LayerNorm gains). For timing and memory
// measurements where the pretrained weights cannot be downloaded: the cost of a step depends only on the
// shapes, not on the values.
import { targetDims, type Gpt2Config, type Gpt2Weights, type Param } from '../../models/gpt2.ts';
import { gaussian, Stream } from '../rng.ts';

export function randomGpt2Weights(config: Gpt2Config, seed = 1): Gpt2Weights {
  const { n_embd: C, n_layer: L, vocab_size: V, n_positions: P } = config;
  const normal = (name: string, shape: number[], std: number): Param => ({ shape, data: gaussian(new Stream(seed, name), shape.reduce((a, b) => a * b, 1), std) });
  const fill = (shape: number[], v: number): Param => ({ shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(v) });
  const ln = () => ({ weight: fill([C], 1), bias: fill([C], 0) });
  const conv = (name: string, target: Parameters<typeof targetDims>[1], std: number) => {
    const d = targetDims(config, target);
    return { weight: normal(name, [d.in, d.out], std), bias: fill([d.out], 0) };
  };
  const proj = 0.02 / Math.sqrt(2 * L);
  return {
    config,
    wte: normal('wte', [V, C], 0.02),
    wpe: normal('wpe', [P, C], 0.01),
    layers: Array.from({ length: L }, (_, l) => ({
      ln1: ln(),
      attn: { cAttn: conv(`h${l}.c_attn`, 'attn.c_attn', 0.02), cProj: conv(`h${l}.attn.c_proj`, 'attn.c_proj', proj) },
      ln2: ln(),
      mlp: { cFc: conv(`h${l}.c_fc`, 'mlp.c_fc', 0.02), cProj: conv(`h${l}.mlp.c_proj`, 'mlp.c_proj', proj) },
    })),
    lnF: ln(),
  };
}
