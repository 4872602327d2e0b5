// bench/torch_peer.py --quick (the PyTorch side of the benchmark, at small sizes on a CPU) runs and reports
// every part, where a python3 with torch exists (Debian: apt-get install -y python3-torch); skipped elsewhere.
import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** The first python3 that imports torch (the PATH's, then Debian's own), or undefined. */
function torchPython(): string | undefined {
  for (const py of [process.env.PYTHON, 'python3', '/usr/bin/python3']) {
    if (py && spawnSync(py, ['-c', 'import torch'], { stdio: 'ignore', timeout: 60_000 }).status === 0) return py;
  }
  return undefined;
}

const python = torchPython();
if (!python) process.stderr.write('tests/bench/torchPeer.test.ts: skipped, no python3 with torch here (Debian: apt-get install -y python3-torch)\n');

describe.skipIf(!python)('bench/torch_peer.py --quick', () => {
  it('times matmul, AdamW, the toy step and a GPT-2 LoRA step, and reports them as JSON', () => {
    const r = spawnSync(python!, [join(root, 'bench/torch_peer.py'), '--quick'], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, OMP_NUM_THREADS: '1' } });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.format).toBe('lora-playground-torch-peer');
    expect(out.tf32).toBe(false);
    expect(out.errors).toEqual({});
    expect(out.reference.copyGBs.median).toBeGreaterThan(0);
    // The suite's products (bench/suite.ts names) and a square one, each exact to fp32 rounding.
    expect(out.matmul.map((m: { name: string }) => m.name)).toEqual(['frozen X W0^T', 'Z_A = X A^T (r=4)', 'dB = G^T Z_A (r=4)', 'U = G B (r=4)', 'dA = U^T X (r=4)', 'square']);
    for (const m of out.matmul) {
      expect(m.err).toBeLessThan(1e-5);
      expect(m.ms.samples).toHaveLength(out.plan.reps);
      expect(m.ms.min).toBeLessThanOrEqual(m.ms.median);
    }
    expect(out.adamw[0]).toMatchObject({ name: 'AdamW (A and B)', n: 256, rank: 4 });
    // The toy trains: after the timed steps, the loss is below its first value.
    const toy = out.toy[0];
    expect(toy).toMatchObject({ n: 256, rank: 4, batch: 100 });
    expect(toy.loss).toBeLessThan(toy.firstLoss);
    const gpt2 = out.gpt2[0];
    expect(gpt2).toMatchObject({ model: 'tiny', rank: 8, targets: ['attn.c_attn'] });
    // Random tokens over a 320-word vocabulary: the loss starts near ln 320.
    expect(Math.abs(gpt2.loss - Math.log(320))).toBeLessThan(1);
    expect(gpt2.tokensPerSecond).toBeGreaterThan(0);
  }, 180_000);
});
