// `cli gpt2`: a tiny run end to end (JSON summary with loss, tokens/s, memory, a generation), the memory
// plan of the real models without allocating (vocabulary chunks under a 128 MiB binding limit), and the
// refusals: bad flags and a configuration that will not fit (exit 2, before any allocation).
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

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
});
