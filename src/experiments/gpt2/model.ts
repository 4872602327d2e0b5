// GPT-2's frozen weights on the GPU, and the LoRA adapters on its Conv1D modules.
//
//   wte [V, C]   split into vocabulary chunks (one buffer each; see plan.ts), also the tied LM head
//   wpe [P, C]
//   per block:   ln_1, ln_2 gain/shift [C]; c_attn W [C, 3C] b [3C]; attn.c_proj W [C, C] b [C];
//                c_fc W [C, F] b [F]; mlp.c_proj W [F, C] b [C]       (Conv1D: stored [in, out], y = x W + b)
//   ln_f gain/shift [C]
// An adapter on module t of block l is a LoraLayer (src/lora/layer.ts) whose W0 is that module's Conv1D
// weight: NOTE W0 is stored [in, out] here, the transpose of LoraLayer's nn.Linear convention, so every
// product with it says so (NN forward, NT input gradient, w0Layout 'inOut').
import type { GpuArena } from '../../gpu/arena.ts';
import type { VocabChunk } from '../../gpu/kernels/embedding.ts';
import { initLora } from '../../lora/init.ts';
import { createLoraLayer, type LoraLayer } from '../../lora/layer.ts';
import { targetDims, type Conv1D, type Gpt2Config, type Gpt2Weights, type LoraTarget } from '../../models/gpt2.ts';
import type { LoraWeights } from '../../models/peft.ts';
import { gpt2LoraScale, type Gpt2RunConfig } from './config.ts';

export interface FrozenConv {
  w: GPUBuffer; // [in, out]
  b: GPUBuffer; // [out]
}

export interface FrozenBlock {
  ln1: { g: GPUBuffer; b: GPUBuffer };
  ln2: { g: GPUBuffer; b: GPUBuffer };
  conv: Record<LoraTarget, FrozenConv>;
}

export interface FrozenGpt2 {
  config: Gpt2Config;
  wte: VocabChunk[];
  wpe: GPUBuffer;
  blocks: FrozenBlock[];
  lnf: { g: GPUBuffer; b: GPUBuffer };
}

/** Uploads the weights, wte in chunks of `chunkRows` vocabulary rows. */
export function uploadGpt2(arena: GpuArena, w: Gpt2Weights, chunkRows: number): FrozenGpt2 {
  const C = w.config.n_embd;
  const V = w.config.vocab_size;
  const up = (label: string, data: Float32Array) => arena.storage(label, data);
  const wte: VocabChunk[] = [];
  for (let v0 = 0; v0 < V; v0 += chunkRows) {
    const rows = Math.min(chunkRows, V - v0);
    wte.push({ v0, rows, buffer: up(`wte[${v0}:${v0 + rows}]`, w.wte.data.subarray(v0 * C, (v0 + rows) * C)) });
  }
  const conv = (label: string, c: Conv1D): FrozenConv => ({ w: up(`${label}.weight`, c.weight.data), b: up(`${label}.bias`, c.bias.data) });
  const blocks = w.layers.map((layer, l): FrozenBlock => ({
    ln1: { g: up(`h${l}.ln_1.weight`, layer.ln1.weight.data), b: up(`h${l}.ln_1.bias`, layer.ln1.bias.data) },
    ln2: { g: up(`h${l}.ln_2.weight`, layer.ln2.weight.data), b: up(`h${l}.ln_2.bias`, layer.ln2.bias.data) },
    conv: {
      'attn.c_attn': conv(`h${l}.attn.c_attn`, layer.attn.cAttn),
      'attn.c_proj': conv(`h${l}.attn.c_proj`, layer.attn.cProj),
      'mlp.c_fc': conv(`h${l}.mlp.c_fc`, layer.mlp.cFc),
      'mlp.c_proj': conv(`h${l}.mlp.c_proj`, layer.mlp.cProj),
    },
  }));
  return { config: w.config, wte, wpe: up('wpe', w.wpe.data), blocks, lnf: { g: up('ln_f.weight', w.lnF.weight.data), b: up('ln_f.bias', w.lnF.bias.data) } };
}

export interface Adapter {
  layer: number;
  target: LoraTarget;
  /** "h3.attn.c_attn" */
  label: string;
  lora: LoraLayer;
}

/**
 * One adapter per (layer, target), in forward order (layer, then GPT-2's module order). Initialised from
 * the seed (lora-math.md section 2; stream "h{l}.{target}.A" / ".B"), or from `given` (a loaded adapter,
 * which must hold every module: completeAdapter in src/models/peft.ts fills what a PEFT file leaves out).
 */
export function createAdapters(arena: GpuArena, model: FrozenGpt2, run: Gpt2RunConfig, given?: readonly LoraWeights[]): Adapter[] {
  const out: Adapter[] = [];
  const scale = gpt2LoraScale(run);
  for (let l = 0; l < model.config.n_layer; l++) {
    for (const target of run.targets) {
      const { in: nIn, out: nOut } = targetDims(model.config, target);
      const label = `h${l}.${target}`;
      const loaded = given?.find((g) => g.layer === l && g.target === target);
      if (given && !loaded) throw new Error(`adapter ${label}: the given adapter has no weights for this module`);
      const init = loaded ?? initLora({ nIn, nOut, rank: run.rank }, run.init, run.initDist, run.seed, `${label}.`);
      if (init.A.length !== run.rank * nIn || init.B.length !== nOut * run.rank) {
        throw new Error(`adapter ${label}: A must be ${run.rank} x ${nIn} and B ${nOut} x ${run.rank}, got ${init.A.length} and ${init.B.length} values`);
      }
      const lora = createLoraLayer(arena, label, { nIn, nOut, rank: run.rank, scale }, { W0: model.blocks[l].conv[target].w, A: init.A, B: init.B });
      out.push({ layer: l, target, label, lora });
    }
  }
  return out;
}
