// The packed folder of `npm run pack:gpu` (scripts/pack-gpu.mjs, scripts/gpu-run.sh) runs from a temporary
// directory without the project's node_modules: its bundle is complete. Packed with --fast (binaries at
// xz level 0: the layout a GPU machine gets, compressed faster), run on SwiftShader, with the packed Vulkan
// loader where the pack has one (a GPU machine has no system loader).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
let tmp: string;
let pack: string;

/** The environment of a bare machine: no NODE_PATH, no npm variables, our own OUT and work folder. */
function bareEnv(out: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, OUT: out, LORA_GPU_WORK: join(tmp, 'work') };
  if (existsSync(pack) && readdirSync(pack).some((f) => f.endsWith('.deb'))) env.LORA_GPU_PACKED_VULKAN = '1';
  return env;
}

function runSh(mode: string[], out: string, extraEnv: NodeJS.ProcessEnv = {}, timeout = 240_000) {
  return spawnSync('bash', [join(pack, 'run.sh'), ...mode], { cwd: tmp, env: { ...bareEnv(out), ...extraEnv }, encoding: 'utf8', timeout });
}

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'lora-pack-'));
  pack = join(tmp, 'dist-gpu');
  execFileSync(process.execPath, [join(root, 'scripts/pack-gpu.mjs'), '--out', pack, '--fast'], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'], timeout: 120_000 });
});

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('dist-gpu (npm run pack:gpu)', () => {
  it('holds node, Dawn, the bundle, the data and run.sh, within 60 MiB', () => {
    const manifest = JSON.parse(readFileSync(join(pack, 'pack.json'), 'utf8'));
    expect(manifest.format).toBe('lora-playground-gpu-pack');
    for (const f of ['run.sh', 'cli.mjs', 'node.xz', 'dawn.node.xz', 'webgpu/index.js', 'webgpu/package.json', 'torch_peer.py',
      'public/models/gpt2-tokenizer/tokenizer.json', 'public/data/tinyshakespeare.txt']) {
      expect(existsSync(join(pack, f)), f).toBe(true);
    }
    expect(manifest.totalBytes).toBeLessThanOrEqual(60 * 2 ** 20);
    // One bundle, WGSL inlined: its static imports are Node's own modules (webgpu is imported lazily).
    const bundle = readFileSync(join(pack, 'cli.mjs'), 'utf8');
    expect(bundle).not.toMatch(/(from |import\()["'][^"']*\.wgsl/);
    expect(bundle).toContain('@compute');
    const imported = [...bundle.matchAll(/^import .* from "([^"]+)";?$/gm)].map((m) => m[1]);
    expect(imported.filter((m) => !m.startsWith('node:') && !builtinModules.includes(m))).toEqual([]);
    // The tokenizer from transformers.js's web build: its Node build loads native onnxruntime-node and sharp.
    expect(bundle).not.toContain('onnxruntime-node');
  });

  it('run.sh quick runs help, a short bench with the TF.js peer and a tiny GPT-2 run from a folder with no node_modules', () => {
    for (let d = tmp; d !== dirname(d); d = dirname(d)) expect(existsSync(join(d, 'node_modules')), d).toBe(false);
    const out = join(tmp, 'out-quick');
    const r = runSh(['quick'], out);
    const log = readFileSync(join(out, 'run.log'), 'utf8');
    expect(r.status, log).toBe(0);
    expect(log).toMatch(/^ {2}train /m);
    expect(log).toMatch(/^bench +ok/m);
    const bench = JSON.parse(readFileSync(join(out, 'bench.json'), 'utf8'));
    expect(bench.peer).toMatch(/^TF\.js-WebGPU/);
    expect(bench.toy[0].n).toBe(64);
    expect(bench.parity.maxRelDiff).toBeLessThan(1e-3);
    const gpt2 = JSON.parse(readFileSync(join(out, 'gpt2.jsonl'), 'utf8').trim());
    expect(gpt2.model).toBe('tiny');
    expect(gpt2.steps).toHaveLength(2);
  }, 300_000);

  it('run.sh selfcheck runs the self-check where the CLI has it', () => {
    const out = join(tmp, 'out-selfcheck');
    const help = runSh(['cli', 'help'], out);
    expect(help.status).toBe(0);
    // run.sh's limit (60 s) is sized for a GPU; SwiftShader gets longer.
    const r = runSh(['selfcheck'], out, { T_SELFCHECK: '420' }, 480_000);
    if (!/^ {2}selfcheck /m.test(help.stdout)) {
      // Until `selfcheck` exists (issue 12, section 1), run.sh says so and exits 2.
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/no selfcheck command/);
      return;
    }
    const log = readFileSync(join(out, 'run.log'), 'utf8');
    expect(r.status, log).toBe(0);
    const report = JSON.parse(readFileSync(join(out, 'selfcheck.json'), 'utf8'));
    expect(report.pass).toBe(true);
    expect(report.checks.length).toBeGreaterThan(0);
  }, 600_000);
});
