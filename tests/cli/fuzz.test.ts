// Every bad input to the CLI ends the same way (issues 16 and 17): exit 2, exactly one line "error: ..."
// on stderr (after the adapter line), no stack trace, nothing on stdout, nothing written where --out (or
// --png) points, and quickly (refused before any work: an n that cannot fit is refused before anything
// is allocated). Each case runs in its own folder, which must hold exactly its inputs afterwards.
//
// Most cases run main() in this process (the GPU device is shared; spawning adds nothing to what is
// checked); a sample of every command also runs as the user starts it (a process, in parallel), which
// checks the supervisor too: Dawn's adapter-probing warnings stay out and the exit code is the worker's.
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { aggregateSweep, RunAccumulator } from '../../src/experiments/sweep/aggregate.ts';
import { gridPoints, validateSweepSpec } from '../../src/experiments/sweep/spec.ts';
import { makeTinyGpt2 } from '../../src/reference/tinyGpt2.ts';
import { expectRefusal, inParallel, messageLines, runInProcess, spawnCli } from './harness.ts';

const T = (rows: number, cols: number, v = 0.1) => ({ shape: [rows, cols], data: Array.from({ length: rows * cols }, () => v) });
function exchange(over: Record<string, unknown> = {}, tensors: Record<string, unknown> = {}) {
  return {
    format: 'lora-playground-tensors', version: 1,
    config: { activation: 'relu', rank: 2, alpha: 2, rslora: false, eta: 1e-3, lambda: 1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0, batch_size: 4, steps: 2 },
    tensors: { W_in: T(6, 3), W0: T(6, 6), W_out: T(1, 6), A: T(2, 6), B: T(6, 2, 0), X_train: T(4, 3), Y_train: T(4, 1), ...tensors },
    ...over,
  };
}

/** A valid exchange file (width 16, the smallest the schema allows). */
const exchange16 = () => exchange({}, { W_in: T(16, 3), W0: T(16, 16), W_out: T(1, 16), A: T(2, 16), B: T(16, 2, 0) });

/** A saved sweep result (no GPU: hand-made rows), to edit into bad ones. */
function sweepResult() {
  const r = validateSweepSpec({ version: 1, kind: 'width-scaling', base: { steps: 3 }, axes: { init: ['A'], n: [16, 32] } });
  if (!r.ok) throw new Error(r.error);
  const runs = gridPoints(r.value).map((p) => {
    const acc = new RunAccumulator(p, 3, 0.1, true);
    acc.push([1, 2, 3].map((step) => ({ step, loss: 1 / step, zA: 1, zB: 0.1 * step, normA: 1, normB: 0.1, normSBA: 0.1, testLoss: step === 3 ? 0.5 : undefined })));
    return acc.summary();
  });
  return JSON.parse(JSON.stringify(aggregateSweep(r.value, runs)));
}

const tiny = makeTinyGpt2();
type Files = Record<string, string | Uint8Array>;
const weights = (config: unknown, safetensors?: Uint8Array): Files => ({
  'w/config.json': typeof config === 'string' ? config : JSON.stringify(config),
  ...(safetensors ? { 'w/model.safetensors': safetensors } : {}),
});
const { n_embd: _drop, ...noEmbd } = tiny.configJson;
/** A safetensors file whose header claims more bytes than follow it. */
function lyingSafetensors(): Uint8Array {
  const header = Buffer.from(JSON.stringify({ 'wte.weight': { dtype: 'F32', shape: [320, 32], data_offsets: [0, 320 * 32 * 4] } }));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(header.length));
  return Buffer.concat([len, header, Buffer.alloc(64)]);
}
const binary = Uint8Array.from({ length: 300 }, (_, i) => (i * 37) % 256);
const text = (chars: number) => 'To be, or not to be, that is the question. '.repeat(Math.ceil(chars / 43)).slice(0, chars);

interface Case {
  /** argv; "@/" is this case's folder. */
  args: string[];
  files?: Files;
  expect: RegExp;
  /** Also run as a separate process. */
  spawn?: boolean;
}

const CASES: Case[] = [
  // ---- train: flags ----
  { args: ['train', '--widht', '64'], expect: /unknown flag --widht/, spawn: true },
  { args: ['train', '--eta'], expect: /--eta needs a value/ },
  { args: ['train', '--eta', '--json'], expect: /--eta needs a value/ },
  { args: ['train', '--n', '-16'], expect: /--n: Width n must be between 16 and 8192/ },
  { args: ['train', '--n', '0'], expect: /--n: Width n must be between/ },
  { args: ['train', '--n', '1e9'], expect: /--n: Width n must be between/ },
  { args: ['train', '--eta', 'NaN'], expect: /--eta: .* must be a number/ },
  { args: ['train', '--eta', 'Infinity'], expect: /--eta: .* must be a number/ },
  { args: ['train', '--eta', '1e999'], expect: /--eta: .* must be finite/ },
  { args: ['train', '--n', '0x10'], expect: /--n: Width n must be a number \(got "0x10"\)/ },
  { args: ['train', '--eta', ''], expect: /--eta: .* must be a number/ },
  { args: ['train', '--steps', '2.5'], expect: /--steps: Steps must be a whole number/ },
  { args: ['train', '--init', 'C'], expect: /--init: Init scheme must be one of A, B/ },
  { args: ['train', '--n', '16', '--rank', '32'], expect: /--rank: Rank r \(32\) must not exceed width n \(16\)/ },
  { args: ['train', '--batch', '2000'], expect: /--batch: Batch size \(2000\) must not exceed the training examples \(1000\)/ },
  { args: ['train', '--n', '8192', '--n-train', '30000', '--d', '1024', '--steps', '1'], expect: /this run will not fit: it needs about \d+ MiB of GPU memory .* but the budget is \d+ MiB/, spawn: true },
  { args: ['train', '--n', '4096', '--n-test', '100000'], expect: /will not fit: the buffer H1\.test \(100000 x 4096\) needs \d+ MiB but this GPU allows at most \d+ MiB per buffer/ },
  { args: ['train', '--constructor', 'x'], expect: /unknown flag --constructor/, spawn: true },
  { args: ['train', '--toString=1'], expect: /unknown flag --toString/ },
  { args: ['train', '--__proto__', '1'], expect: /unknown flag --__proto__/ },
  { args: ['train', 'foo'], expect: /unexpected argument "foo"/ },
  { args: ['train', '--json', '--csv'], expect: /give --json or --csv, not both/ },
  { args: ['train', '--json=maybe'], expect: /--json is a switch/ },
  { args: ['train', '--n', '64', '--n', '128'], expect: /--n is given twice/ },
  { args: ['train', '--memory-budget-mib', '0'], expect: /--memory-budget-mib must be between 1 and/ },
  { args: ['train', '--memory-budget-mib', '1', '--n', '512'], expect: /will not fit: .* but the budget is 1 MiB/ },
  // ---- train: tensor files ----
  { args: ['train', '--tensors', '@/nope.json'], expect: /--tensors: ".*nope\.json" does not exist/ },
  { args: ['train', '--tensors', '@/bad.json'], files: { 'bad.json': '{"format": ' }, expect: /--tensors: ".*bad\.json" is not valid JSON/ },
  { args: ['train', '--tensors', '@/empty.json'], files: { 'empty.json': '' }, expect: /is not valid JSON/ },
  { args: ['train', '--tensors', '@/bin.json'], files: { 'bin.json': binary }, expect: /is not valid JSON/ },
  { args: ['train', '--tensors', '@/d'], files: { 'd/x': '' }, expect: /--tensors: ".*d" is not a regular file/ },
  { args: ['train', '--tensors', '@/fmt.json'], files: { 'fmt.json': JSON.stringify(exchange({ format: 'x' })) }, expect: /"format" must be/ },
  { args: ['train', '--tensors', '@/shape.json'], files: { 'shape.json': JSON.stringify(exchange({}, { W0: T(5, 6) })) }, expect: /W0 has shape \[5,6\]/, spawn: true },
  { args: ['train', '--tensors', '@/len.json'], files: { 'len.json': JSON.stringify(exchange({}, { A: { shape: [2, 6], data: [1, 2, 3] } })) }, expect: /A has 3 numbers but shape 2x6 needs 12/ },
  { args: ['train', '--tensors', '@/huge.json'], files: { 'huge.json': JSON.stringify(exchange({}, { W0: { shape: [100000, 100000], data: [1] } })) }, expect: /W0 has 1 numbers but shape 100000x100000 needs 10000000000/ },
  { args: ['train', '--tensors', '@/nan.json'], files: { 'nan.json': JSON.stringify(exchange()).replace('"W_out":{"shape":[1,6],"data":[0.1', '"W_out":{"shape":[1,6],"data":[1e999') }, expect: /W_out\.data\[0\] is not a finite number/ },
  { args: ['train', '--tensors', '@/null.json'], files: { 'null.json': JSON.stringify(exchange({}, { X_train: { shape: [4, 3], data: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, null] } })) }, expect: /X_train\.data\[11\] is not a finite number/ },
  { args: ['train', '--tensors', '@/t.json', '--n', '64'], files: { 't.json': JSON.stringify(exchange16()) }, expect: /--n cannot change the shape of the tensors/ },
  { args: ['train', '--tensors', '@/t.json', '--batch', '9'], files: { 't.json': JSON.stringify(exchange16()) }, expect: /--batch \(9\) must not exceed the file's 4 training examples/ },
  // ---- export-tensors ----
  { args: ['export-tensors'], expect: /export-tensors needs --out FILE\.json/, spawn: true },
  { args: ['export-tensors', '--out', '/no/dir/x.json'], expect: /--out: the folder "\/no\/dir" does not exist/ },
  { args: ['export-tensors', '--out', '@/d'], files: { 'd/keep': '' }, expect: /--out: ".*d" exists and is not a regular file/ },
  { args: ['export-tensors', '--out', '/proc/x.json'], expect: /--out: cannot write files in "\/proc"/ },
  { args: ['export-tensors', '--out', ''], expect: /--out needs a path/ },
  { args: ['export-tensors', '--n', '2720', '--d', '1', '--n-train', '1', '--n-test', '100000', '--rank', '1', '--out', '@/x.json'], expect: /computing the teacher's targets will not fit: the buffer H1\.test \(100000 x 2720\) needs 1038 MiB/, spawn: true },
  { args: ['export-tensors', '--out', '@/x.json', '--memory-budget-mib', '1', '--n', '1024'], expect: /will not fit: .* but the budget is 1 MiB/ },
  { args: ['export-tensors', '--out', '@/x.json', '--rank', '0'], expect: /--rank: Rank r must be between 1 and 64/ },
  // ---- sweep ----
  { args: ['sweep'], expect: /sweep needs --kind/, spawn: true },
  { args: ['sweep', '--kind', 'foo'], expect: /--kind must be one of lr-width, lambda-eta, width-scaling/ },
  { args: ['sweep', '--kind', 'lr-width', '--n', '16,32'], expect: /axes\.eta is required for a lr-width sweep/ },
  { args: ['sweep', '--kind', 'width-scaling', '--n', '64,64'], expect: /axes\.n repeats 64/ },
  { args: ['sweep', '--kind', 'width-scaling', '--n', '16:64:0'], expect: /axes\.n\.count must be a whole number from 1 to 64/ },
  { args: ['sweep', '--kind', 'width-scaling', '--n', 'a,b'], expect: /axes\.n\[0\]: Width n must be a number/ },
  { args: ['sweep', '--kind', 'width-scaling', '--n', '64:16:3'], expect: /from \(64\) must be below to \(16\)/ },
  { args: ['sweep', '--kind', 'lr-width', '--n', '16', '--eta', '1:2:3:4'], expect: /eta "1:2:3:4": write values as a,b,c or a log range/ },
  { args: ['sweep', '--kind', 'width-scaling', '--n', '16', '--n', '32'], expect: /--n is given twice/ },
  { args: ['sweep', '--kind', 'width-scaling', '--n', ''], expect: /--n needs a value/ },
  { args: ['sweep', '--link', 'sweep=1&kind=lr-width&x.n=16&x.eta=1:2:3&\u202ebad\u0007=1'], expect: /--link: unknown link key "\?bad\?"/, spawn: true },
  { args: ['sweep', '--link', 'garbage'], expect: /--link: malformed link part "garbage"/ },
  { args: ['sweep', '--link', 'sweep=1&kind=width-scaling&x.n=16,32&n=%E0%A4%A'], expect: /--link: bad escape in "n"/ },
  { args: ['sweep', '--spec', '@/s.json'], files: { 's.json': JSON.stringify({ version: 1, kind: 'width-scaling', base: { toString: 1 }, axes: { n: [16, 32] } }) }, expect: /base: unknown setting "toString"/ },
  { args: ['sweep', '--spec', '@/s.json'], files: { 's.json': JSON.stringify({ version: 1, kind: 'width-scaling', axes: { n: [16, 32] }, constructor: 1 }) }, expect: /unknown field "constructor"/ },
  { args: ['sweep', '--spec', '@/s.json'], files: { 's.json': '[1,2]' }, expect: /a sweep spec must be a JSON object/ },
  { args: ['sweep', '--spec', '@/s.json'], files: { 's.json': 'kind: lr-width' }, expect: /is not valid JSON/ },
  { args: ['sweep', '--spec', '@/s.json'], files: { 's.json': JSON.stringify({ version: 1, kind: 'width-scaling', base: [], axes: { n: [16] } }) }, expect: /base must be an object of settings/ },
  { args: ['sweep', '--from', '@/r.json'], files: { 'r.json': JSON.stringify({ ...sweepResult(), kind: 'lr-width' }) }, expect: /--from ".*r\.json": its kind does not match its spec \(width-scaling\)/ },
  { args: ['sweep', '--from', '@/r.json'], files: { 'r.json': JSON.stringify({ ...sweepResult(), spec: { ...sweepResult().spec, kind: 'lr-width' } }) }, expect: /its spec is invalid: axes\.eta is required/ },
  { args: ['sweep', '--from', '@/r.json'], files: { 'r.json': JSON.stringify({ ...sweepResult(), runs: ['junk', 1] }) }, expect: /runs\[0\] must be an object/, spawn: true },
  { args: ['sweep', '--from', '@/r.json'], files: { 'r.json': JSON.stringify({ ...sweepResult(), runs: [] }) }, expect: /runs must be a list of the grid's 2 runs/ },
  { args: ['sweep', '--from', '@/r.json'], files: { 'r.json': JSON.stringify({ ...sweepResult(), runs: sweepResult().runs.map((r: Record<string, unknown>) => ({ ...r, finalLoss: 'x' })) }) }, expect: /runs\[0\]\.finalLoss must be a finite number or null/ },
  { args: ['sweep', '--from', '@/r.json'], files: { 'r.json': JSON.stringify({ ...sweepResult(), runs: sweepResult().runs.map((r: Record<string, unknown>) => ({ ...r, steps: 1 })) }) }, expect: /runs\[0\] is "done" but has 1 of 3 steps/ },
  { args: ['sweep', '--from', '@/r.json', '--eta', '1'], files: { 'r.json': JSON.stringify(sweepResult()) }, expect: /--from re-uses a saved result; --eta would need a new run/ },
  { args: ['sweep', '--kind', 'width-scaling', '--n', '16,32', '--out', '/no/dir/r.json'], expect: /--out: the folder "\/no\/dir" does not exist/, spawn: true },
  { args: ['sweep', '--kind', 'width-scaling', '--n', '16,32', '--png', '/proc/x'], expect: /--png: cannot write a folder in "\/proc"/ },
  { args: ['sweep', '--kind', 'width-scaling', '--n', '16,32', '--png', '@/f'], files: { f: 'a file' }, expect: /--png: ".*f" exists and is not a folder/ },
  { args: ['sweep', '--preset', 'constructor'], expect: /--preset must be one of e3, e4, e5, e6/ },
  { args: ['sweep', '--preset', 'e3', '--link', 'x'], expect: /give at most one of --preset, --link/ },
  { args: ['sweep', '--kind', 'width-scaling', '--n', '16,32', '--max-batch', '0'], expect: /--max-batch must be between 1 and/ },
  { args: ['sweep', '--kind', 'width-scaling', '--n', '16,32', '--engine', 'turbo'], expect: /--engine must be one of batched, sequential/ },
  { args: ['sweep', '--kind', 'width-scaling', '--n', '16,32', '--threshold', '2'], expect: /--threshold must be between/ },
  { args: ['sweep', '--kind', 'width-scaling', '--n', '16,32', '--curves', '--no-curves'], expect: /give --curves or --no-curves, not both/ },
  { args: ['sweep', '--kind', 'width-scaling', '--n', '1024,8192', '--n-train', '30000'], expect: /this sweep will not fit: .* \(at n = 8192\)/ },
  // ---- gpt2 ----
  { args: ['gpt2', '--model', 'constructor'], expect: /--model must be one of tiny, distilgpt2, gpt2 \(got "constructor"\)/, spawn: true },
  { args: ['gpt2', '--model', 'tiny', '--text', '@/t.txt'], files: { 't.txt': text(5000) }, expect: /--text: the tiny model trains on synthetic tokens/ },
  { args: ['gpt2', '--weights', '@/w'], files: weights(noEmbd, tiny.safetensorsBytes), expect: /--weights ".*w": config\.json: n_embd must be a positive integer/, spawn: true },
  { args: ['gpt2', '--weights', '@/w'], files: weights('{"n_embd": 32,', tiny.safetensorsBytes), expect: /config\.json" is not valid JSON/ },
  { args: ['gpt2', '--weights', '@/w'], files: weights(tiny.configJson), expect: /--weights: ".*model\.safetensors" does not exist/ },
  { args: ['gpt2', '--weights', '@/w'], files: weights(tiny.configJson, tiny.safetensorsBytes.slice(0, tiny.safetensorsBytes.length >> 1)), expect: /safetensors: .*truncated|safetensors: / },
  { args: ['gpt2', '--weights', '@/w'], files: weights(tiny.configJson, tiny.safetensorsBytes.slice(0, 5)), expect: /too short to hold the 8-byte header length/ },
  { args: ['gpt2', '--weights', '@/w'], files: weights(tiny.configJson, lyingSafetensors()), expect: /safetensors: / },
  { args: ['gpt2', '--weights', '@/w'], files: weights({ ...tiny.configJson, n_layer: 3 }, tiny.safetensorsBytes), expect: /checkpoint does not match a 3-layer GPT-2: missing h\.2\./ },
  { args: ['gpt2', '--weights', '@/w'], files: weights({ ...tiny.configJson, n_embd: 64, n_head: 4 }, tiny.safetensorsBytes), expect: /has shape \[320,32\] but the config implies \[320,64\]/ },
  { args: ['gpt2', '--weights', '@/w'], files: weights(tiny.configJson, binary), expect: /safetensors: / },
  { args: ['gpt2', '--weights', '@/nope'], expect: /--weights: ".*nope" does not exist/ },
  { args: ['gpt2', '--weights', '@/w/config.json'], files: weights(tiny.configJson), expect: /--weights: ".*config\.json" is not a folder/ },
  { args: ['gpt2', '--weights', '@/w', '--random'], files: weights(tiny.configJson), expect: /give --weights DIR or --random, not both/ },
  { args: ['gpt2', '--model', 'distilgpt2', '--random', '--text', '@/t.txt'], files: { 't.txt': '' }, expect: /--text ".*t\.txt" is empty/ },
  { args: ['gpt2', '--model', 'distilgpt2', '--random', '--text', '@/t.txt'], files: { 't.txt': binary }, expect: /--text ".*t\.txt" is not UTF-8 text/ },
  { args: ['gpt2', '--model', 'distilgpt2', '--random', '--text', '@/t.txt'], files: { 't.txt': 'hello\u0000world' }, expect: /holds NUL bytes/ },
  { args: ['gpt2', '--model', 'distilgpt2', '--random', '--text', '@/t.txt'], files: { 't.txt': text(120) }, expect: /--text: the text gives \d+ training tokens; --seq 128 needs at least 129/ },
  { args: ['gpt2', '--model', 'tiny', '--generate', ''], expect: /--generate must not be empty/ },
  { args: ['gpt2', '--model', 'tiny', '--generate', 'x', '--temperature', '-1'], expect: /--temperature must be between 0 and 100 \(got "-1"\)/ },
  { args: ['gpt2', '--model', 'tiny', '--generate', 'x', '--max-new-tokens', '1e12'], expect: /--max-new-tokens must be between 1 and 4096/ },
  { args: ['gpt2', '--model', 'tiny', '--max-new-tokens', '5'], expect: /--max-new-tokens needs --generate PROMPT/ },
  { args: ['gpt2', '--model', 'tiny', '--max-vocab-chunk', '2.5'], expect: /--max-vocab-chunk must be a whole number \(got "2\.5"\)/ },
  { args: ['gpt2', '--model', 'tiny', '--seq', '100'], expect: /Sequence length 100 exceeds the model's 64 positions/ },
  { args: ['gpt2', '--model', 'tiny', '--rank', '0'], expect: /--rank: Rank r must be between 1 and 256/ },
  { args: ['gpt2', '--model', 'tiny', '--rank', '64'], expect: /Rank 64 exceeds the attn\.c_attn layer's size \(32 x 96\)/ },
  { args: ['gpt2', '--model', 'tiny', '--targets', 'attn.q_proj'], expect: /--targets unknown LoRA target "attn\.q_proj"/ },
  { args: ['gpt2', '--model', 'tiny', '--targets', ''], expect: /--targets must not be empty/ },
  { args: ['gpt2', '--model', 'tiny', '--top-k', '1000', '--generate', 'x'], expect: /--top-k must be at most the model's vocabulary \(320\)/ },
  { args: ['gpt2', '--model', 'tiny', '--plan', '--generate', 'x'], expect: /--plan allocates nothing and trains nothing; --generate would need a run/ },
  { args: ['gpt2', '--model', 'tiny', '--eval-fraction', '1'], expect: /--eval-fraction must be between 0 and 0\.9/ },
  { args: ['gpt2', '--model', 'tiny', '--memory-budget-mib', '-5'], expect: /--memory-budget-mib must be between 1 and/ },
  { args: ['gpt2', '--model', 'tiny', '--max-binding-mib', '0'], expect: /--max-binding-mib must be between 1 and/ },
  { args: ['gpt2', '--model', 'gpt2', '--seq', '1024', '--batch', '16', '--random'], expect: /this configuration will not fit: needs about \d+ MiB of GPU memory .* but the budget is \d+ MiB/, spawn: true },
  // ---- the command itself ----
  { args: ['trian'], expect: /unknown command "trian"/, spawn: true },
  { args: ['constructor'], expect: /unknown command "constructor"/ },
  { args: ['__proto__', '--x'], expect: /unknown command "__proto__"/ },
];

function setUp(c: Case): { dir: string; args: string[]; before: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'lora-fuzz-'));
  for (const [name, content] of Object.entries(c.files ?? {})) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), content);
  }
  return { dir, args: c.args.map((a) => a.replaceAll('@/', dir + '/')), before: listing(dir) };
}

function listing(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort();
}

const label = (c: Case) => c.args.join(' ').replace(/[^\x20-\x7e]/g, '?').slice(0, 110);

describe('cli fuzz: every bad input ends with exit 2 and one line', () => {
  it(`has at least 60 cases across every command (${CASES.length})`, () => {
    expect(CASES.length).toBeGreaterThanOrEqual(60);
    const per = new Map<string, number>();
    for (const c of CASES) {
      const cmd = ['train', 'export-tensors', 'sweep', 'gpt2'].includes(c.args[0]) ? c.args[0] : 'command';
      per.set(cmd, (per.get(cmd) ?? 0) + 1);
    }
    for (const cmd of ['train', 'export-tensors', 'sweep', 'gpt2', 'command']) expect(per.get(cmd) ?? 0, cmd).toBeGreaterThan(2);
    console.log('bad inputs per command:', Object.fromEntries(per));
  });

  it.each(CASES.map((c) => [label(c), c] as const))('%s', async (_, c) => {
    const { dir, args, before } = setUp(c);
    const r = await runInProcess(args);
    expectRefusal(r, c.expect, label(c));
    expect(listing(dir), 'nothing written').toEqual(before);
    expect(r.ms, 'refused quickly').toBeLessThan(5000);
  });

  it('as processes: the same refusals, with Dawn\'s probing warnings kept out', async () => {
    const sample = CASES.filter((c) => c.spawn);
    const runs = await inParallel(sample, 3, async (c) => {
      const { dir, args, before } = setUp(c);
      const r = await spawnCli(args);
      return { c, r, dir, before };
    });
    for (const { c, r, dir, before } of runs) {
      expectRefusal(r, c.expect, label(c));
      expect(r.stderr).not.toMatch(/Warning: Vulkan|While initializing adapter|InitializeImpl|XDG_RUNTIME_DIR/);
      expect(r.stderr.split('\n').filter((l) => l.startsWith('[webgpu] adapter: ')).length).toBeLessThanOrEqual(1);
      expect(listing(dir)).toEqual(before);
      expect(r.ms, label(c)).toBeLessThan(30_000);
    }
  });

  it('no command: the usage on stdout, one error line, exit 2', async () => {
    const r = await runInProcess([]);
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/^usage: /);
    expect(messageLines(r.stderr)).toEqual(['error: give a command (the list is above)']);
  });
});
