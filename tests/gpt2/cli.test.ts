// `cli gpt2`: a tiny run end to end (JSON summary with loss, tokens/s, memory, a generation), the memory
// plan of the real models without allocating (vocabulary chunks under a 128 MiB binding limit), and the
// refusals: bad flags and a configuration that will not fit (exit 2, before any allocation).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeTinyGpt2 } from '../../src/reference/tinyGpt2.ts';

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, ['--import', 'tsx', '--import', './scripts/register-wgsl.mjs', 'src/cli/main.ts', 'gpt2', ...args], { encoding: 'utf8', timeout: 300_000 });
}

describe('cli gpt2', () => {
  it('trains the tiny model and reports loss, tokens/s, memory and a generation', () => {
    const r = cli('--model', 'tiny', '--steps', '5', '--seq', '13', '--batch', '2', '--eta', '1e-2', '--targets', 'attn.c_attn,mlp.c_proj', '--eval-every', '2', '--generate', 'x', '--max-new-tokens', '3', '--json');
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.steps.map((s: { step: number }) => s.step)).toEqual([1, 2, 3, 4, 5]);
    expect(out.steps[4].loss).toBeLessThan(out.steps[0].loss);
    expect(out.steps.filter((s: { evalLoss?: number }) => s.evalLoss !== undefined).map((s: { step: number }) => s.step)).toEqual([1, 2, 4, 5]);
    expect(out.tokensPerSecond).toBeGreaterThan(0);
    expect(out.memoryBytes).toBeGreaterThanOrEqual(out.plan.totalBytes);
    expect(out.generation.ids).toHaveLength(3);
    expect(r.stderr).toMatch(/tokens\/s/);
  });

  it('--plan: distilgpt2 and gpt2 at seq 128, batch 4, r 8 on c_attn fit; a 128 MiB binding limit splits the vocabulary', () => {
    for (const model of ['distilgpt2', 'gpt2']) {
      const r = cli('--model', model, '--plan', '--max-binding-mib', '128', '--json');
      expect(r.status, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout);
      expect(out.fits).toBe(true);
      expect(out.plan.vocabChunks).toEqual([43690, 6567]);
    }
  });

  it('refuses bad flags and a configuration over the budget (exit 2), saying why', () => {
    const bad = cli('--model', 'tiny', '--targets', 'attn.q_proj');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/unknown LoRA target "attn.q_proj"/);
    expect(cli('--model', 'tiny', '--rank', '0').stderr).toMatch(/Rank r must be between 1 and 256/);
    const big = cli('--model', 'gpt2', '--seq', '1024', '--batch', '16', '--random');
    expect(big.status).toBe(2);
    expect(big.stderr).toMatch(/will not fit: needs about \d+ MiB of GPU memory .* but the budget is \d+ MiB/);
  });

  it('--weights DIR: the plan, the log and the JSON are the loaded model\'s', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gpt2-weights-'));
    const tiny = makeTinyGpt2(2);
    writeFileSync(join(dir, 'config.json'), JSON.stringify(tiny.configJson));
    writeFileSync(join(dir, 'model.safetensors'), tiny.safetensorsBytes);
    const r = cli('--weights', dir, '--seq', '13', '--plan', '--json');
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.modelConfig).toMatchObject({ n_embd: 32, n_layer: 2, vocab_size: 320 });
    expect(out.plan.totalBytes).toBeLessThan(2 ** 20);
    expect(r.stderr).toMatch(/gpt2-weights-\w+: needs 0\.\d+ MiB/);
  });

  it('saves a PEFT adapter with a model card, evaluates and continues it, and refuses one that does not fit', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gpt2-adapter-'));
    const ad = join(dir, 'ad');
    const train = cli('--model', 'tiny', '--steps', '3', '--seq', '13', '--batch', '2', '--eta', '1e-2', '--order', 'sequential', '--grad-accum', '2', '--schedule', 'cosine', '--warmup', '1', '--save-adapter', ad, '--json');
    expect(train.status, train.stderr).toBe(0);
    const out = JSON.parse(train.stdout);
    expect(out.steps.map((s: { starts: number[] }) => s.starts)).toEqual([[0, 13, 26, 39], [52, 65, 78, 91], [104, 117, 130, 143]]);
    expect(out.steps.map((s: { lr: number }) => +s.lr.toPrecision(6))).toEqual([0, 0.01, 0.005]);
    expect(out.steps.every((s: { gradNorm: number }) => s.gradNorm > 0)).toBe(true);
    const config = JSON.parse(readFileSync(join(ad, 'adapter_config.json'), 'utf8'));
    expect(config).toMatchObject({ peft_type: 'LORA', r: 8, lora_alpha: 16, base_model_name_or_path: null, init_lora_weights: true, target_modules: ['attn.c_attn'] });
    expect(readFileSync(join(ad, 'README.md'), 'utf8')).toMatch(/library_name: peft[\s\S]*cosine, 1 warmup step/);

    const evalWith = cli('--eval-only', '--model', 'tiny', '--seq', '13', '--adapter', ad, '--windows', '9', '--json');
    const evalBase = cli('--eval-only', '--model', 'tiny', '--seq', '13', '--windows', '9', '--json');
    expect(evalWith.status, evalWith.stderr).toBe(0);
    const a = JSON.parse(evalWith.stdout);
    const b = JSON.parse(evalBase.stdout);
    expect(a.windows).toBe(9);
    expect(a.starts).toEqual(b.starts);
    expect(a.perplexity).toBeCloseTo(Math.exp(a.loss), 6);
    expect(a.loss).not.toBe(b.loss);

    const clash = cli('--model', 'tiny', '--seq', '13', '--adapter', ad, '--alpha', '8', '--save-adapter', join(dir, 'never'));
    expect(clash.status).toBe(2);
    expect(clash.stderr).toMatch(/--alpha 8 contradicts the adapter's lora_alpha = 16 \(.*adapter_config\.json\); leave --alpha out or give 16/);
    const wrongModel = cli('--model', 'distilgpt2', '--random', '--adapter', ad, '--plan');
    expect(wrongModel.status).toBe(2);
    expect(wrongModel.stderr).toMatch(/names layer|has shape \[8,32\], expected \[8,768\]/);
    writeFileSync(join(ad, 'adapter_model.safetensors'), readFileSync(join(ad, 'adapter_model.safetensors')).subarray(0, 100));
    const truncated = cli('--model', 'tiny', '--seq', '13', '--adapter', ad, '--save-adapter', join(dir, 'never'));
    expect(truncated.status).toBe(2);
    expect(truncated.stderr).toMatch(/--adapter .*: safetensors: .*truncated/);
    expect(existsSync(join(dir, 'never'))).toBe(false);
  });
});
