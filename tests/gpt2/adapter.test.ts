// A trained adapter out and back in: the PEFT folder (adapter_config.json, adapter_model.safetensors,
// README.md) read back gives the same loss bit for bit and the same next step as the weights it was
// written from; the init is named as PEFT would need it; a contradicting setting is refused with both
// values; modules a PEFT adapter leaves out stay exactly unadapted through training.
import { beforeAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../../src/gpu/device.ts';
import { adapterConflicts, adapterFolder, adapterSettings, initScheme, loadAdapter, modelCard } from '../../src/experiments/gpt2/adapterFiles.ts';
import type { Gpt2StepMetrics } from '../../src/experiments/gpt2/metrics.ts';
import { Gpt2Trainer } from '../../src/experiments/gpt2/trainer.ts';
import { GPT2_MODELS } from '../../src/models/gpt2.ts';
import { buildAdapterConfig, peftTensorName, type LoraWeights } from '../../src/models/peft.ts';
import { writeSafetensors } from '../../src/models/safetensors.ts';
import { testGpu } from '../gpu.ts';
import { patternStream, randomBatch, tinyRun, tinyWeights } from './fixture.ts';

let ctx: GpuContext;
beforeAll(async () => {
  ctx = await testGpu();
});

const w = tinyWeights();
const V = w.config.vocab_size;
const origin = { baseModel: null, baseLabel: 'the tiny test GPT-2', steps: 3, loss: 5.5, text: 'a pattern' };
const bits = (a: Float32Array) => Array.from(new Uint32Array(a.slice().buffer));

describe('adapter round trip', () => {
  for (const init of ['A', 'B'] as const) {
    it(`Init[${init}]: save -> load gives the same loss bit for bit and the same next step`, async () => {
      const run = tinyRun({ init, initDist: 'gaussian', steps: 3, dropout: 0.1, loraDropout: 0.1, schedule: 'linear', maxGradNorm: 1, targets: ['attn.c_attn', 'mlp.c_proj'] });
      const a = await Gpt2Trainer.create(ctx, w, run, { train: patternStream(V, 200) });
      for (let i = 0; i < 3; i++) await a.step();
      const trained = await a.readAdapters();
      const folder = adapterFolder(w.config, run, trained, origin);
      const loaded = loadAdapter(w.config, folder['adapter_config.json'], folder['adapter_model.safetensors']);
      expect(loaded.zeroFilled).toBe(0);
      expect(loaded.settings).toMatchObject({ r: run.rank, alpha: run.alpha, rslora: false, targets: run.targets, loraDropout: 0.1, initLoraWeights: false, baseModel: null });
      loaded.weights.forEach((l, k) => {
        expect(bits(l.A)).toEqual(bits(trained[k].A));
        expect(bits(l.B)).toEqual(bits(trained[k].B));
      });
      const batch = randomBatch(V, run.batch, run.seq, 8);
      const fromMemory = await Gpt2Trainer.create(ctx, w, run, { train: patternStream(V, 200) }, { adapters: trained });
      const fromFiles = await Gpt2Trainer.create(ctx, w, run, { train: patternStream(V, 200) }, { adapters: loaded.weights });
      const lossA = (await a.evaluate(batch, { logits: false })).losses;
      expect(bits((await fromFiles.evaluate(batch, { logits: false })).losses)).toEqual(bits(lossA));
      const rows: Gpt2StepMetrics[][] = [[], []];
      [fromMemory, fromFiles].forEach((t, i) => (t.onRows = (r) => rows[i].push(...r)));
      for (const t of [fromMemory, fromFiles]) {
        await t.step({ batch });
        await t.flush();
      }
      expect(rows[1].map((r) => [r.loss, r.gradNorm, ...r.zB])).toEqual(rows[0].map((r) => [r.loss, r.gradNorm, ...r.zB]));
      const [m, f] = [await fromMemory.readAdapters(), await fromFiles.readAdapters()];
      m.forEach((x, k) => expect(bits(f[k].B)).toEqual(bits(x.B)));
      for (const t of [a, fromMemory, fromFiles]) t.destroy();
    });
  }

  it('names the init as PEFT would need it: true only for kaiming-uniform Init[A], never "gaussian"', () => {
    expect(initScheme({ init: 'A', initDist: 'uniform' }).initLoraWeights).toBe(true);
    for (const s of [{ init: 'A', initDist: 'gaussian' }, { init: 'B', initDist: 'gaussian' }, { init: 'B', initDist: 'uniform' }] as const) {
      const scheme = initScheme(s);
      expect(scheme.initLoraWeights).toBe(false);
      expect(scheme.recreate).toMatch(/nn\.init\./);
    }
    expect(initScheme({ init: 'A', initDist: 'gaussian' }).description).toMatch(/N\(0, 1\/fan_in\).*Not PEFT’s "gaussian"/);
    const run = tinyRun({ init: 'B', initDist: 'gaussian' });
    expect(buildAdapterConfig(adapterSettings(run, origin)).init_lora_weights).toBe(false);
    const card = modelCard(w.config, run, origin);
    expect(card).toMatch(/Init\[B\]: A = 0, B ~ N\(0, 1\/r\)/);
    expect(card).toMatch(/nn\.init\.normal_\(layer\.lora_B\[name\]\.weight, std=1 \/ math\.sqrt\(r\)\)/);
    expect(card).not.toMatch(/^base_model:/m); // not on the hub: no hub id anywhere
    expect(buildAdapterConfig(adapterSettings(run, origin)).base_model_name_or_path).toBeNull();
  });

  it('the card of a hub model names it and shows how to load it with PEFT', () => {
    const card = modelCard(GPT2_MODELS.gpt2.config, tinyRun({ schedule: 'cosine', warmup: 3, gradAccum: 4, dropout: null }), { baseModel: 'openai-community/gpt2', baseLabel: 'openai-community/gpt2', steps: 10 });
    expect(card).toMatch(/^base_model: openai-community\/gpt2$/m);
    expect(card).toMatch(/^library_name: peft$/m);
    expect(card).toMatch(/PeftModel\.from_pretrained\(AutoModelForCausalLM\.from_pretrained\("openai-community\/gpt2"\)/);
    expect(card).toMatch(/cosine, 3 warmup steps/);
    expect(card).toMatch(/4 accumulated micro-batches/);
    expect(card).toMatch(/0\.1 \(embd, attn, resid\) from the model config/);
  });

  it('refuses a setting that contradicts the adapter, naming both values', () => {
    const settings = { baseModel: null, r: 8, alpha: 16, rslora: false, targets: ['attn.c_attn'] as const };
    expect(adapterConflicts(settings, { rank: 8, alpha: 16, rslora: false, targets: ['attn.c_attn'] })).toEqual([]);
    expect(adapterConflicts(settings, { rank: 4, alpha: 32, rslora: true, targets: ['mlp.c_fc'] })).toEqual([
      { key: 'rank', peftKey: 'r', given: '4', adapter: '8' },
      { key: 'alpha', peftKey: 'lora_alpha', given: '32', adapter: '16' },
      { key: 'rslora', peftKey: 'use_rslora', given: 'true', adapter: 'false' },
      { key: 'targets', peftKey: 'target_modules', given: 'mlp.c_fc', adapter: 'attn.c_attn' },
    ]);
  });

  it('modules a PEFT adapter leaves out (layers_to_transform) are A = B = 0 and stay so through training', async () => {
    const run = tinyRun({ targets: ['mlp.c_fc'], rank: 2, steps: 2, wd: 0.1 });
    const d = { in: w.config.n_embd, out: w.config.n_inner };
    const only: LoraWeights = { layer: 1, target: 'mlp.c_fc', A: new Float32Array(2 * d.in).fill(0.05), B: new Float32Array(d.out * 2).fill(0.02) };
    // As PEFT writes an adapter with layers_to_transform [1]: layer 1's tensors only.
    const file = writeSafetensors({ [peftTensorName(1, 'mlp.c_fc', 'A')]: { shape: [2, d.in], data: only.A }, [peftTensorName(1, 'mlp.c_fc', 'B')]: { shape: [d.out, 2], data: only.B } });
    const cfg = { ...buildAdapterConfig({ baseModel: null, r: 2, alpha: run.alpha, rslora: false, targets: ['mlp.c_fc'] }), layers_to_transform: [1] };
    const loaded = loadAdapter(w.config, JSON.stringify(cfg), file);
    expect(loaded.weights.map((x) => x.layer)).toEqual([0, 1]);
    expect(loaded.zeroFilled).toBe(1);
    const t = await Gpt2Trainer.create(ctx, w, run, { train: patternStream(V, 200) }, { adapters: loaded.weights });
    await t.step();
    await t.step();
    const after = await t.readAdapters();
    expect(after[0].A.every((v) => v === 0) && after[0].B.every((v) => v === 0)).toBe(true);
    expect(after[1].B.some((v, i) => v !== only.B[i])).toBe(true);
    t.destroy();
  });
});
