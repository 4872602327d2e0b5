// `cli gpt2`: LoRA fine-tuning of GPT-2 in Node (Dawn; SwiftShader without a GPU), and its memory plan.
//   npm run --silent cli -- gpt2 [--model distilgpt2|gpt2|tiny] [--weights DIR | --random] [--text FILE]
//       [--targets attn.c_attn,...] [--rank 8 --alpha 16 --seq 128 --batch 4 --steps 20 ...]
//       [--plan] [--profile] [--generate PROMPT --max-new-tokens 20 --temperature 0 --top-k 0] [--json]
//       [--out FILE]    the run as a result bundle (trace, samples, the PEFT adapter; .gz to gzip)
// Weights: --weights DIR reads config.json + model.safetensors; --random builds the model's shapes with
// random weights (timing and memory: a step costs the same whatever the values); otherwise the hub download.
// --plan prints what the configuration needs and whether this adapter takes it, and allocates nothing.
// --profile times every dispatch (one pass each, so slower than a normal step) and prints GPU time per kernel.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultGpt2RunConfig, GPT2_FIELDS, GPT2_KEYS, parseGpt2Field, parseTargets, type Gpt2RunConfig } from '../experiments/gpt2/config.ts';
import { randomGpt2Weights } from '../experiments/gpt2/random.ts';
import { checkGpt2Run, Gpt2FitError, Gpt2Session, splitTokens, type Gpt2StepMetrics } from '../experiments/gpt2/session.ts';
import { DEFAULT_MEMORY_BUDGET, formatBytes, type Gpt2Plan } from '../experiments/gpt2/plan.ts';
import { GpuHost } from '../gpu/host.ts';
import { nodeGpuContext } from '../gpu/node.ts';
import { createProfiler, type ProfileSummary } from '../gpu/timing.ts';
import { GPT2_MODELS, loadGpt2, type Gpt2Config, type Gpt2Weights } from '../models/gpt2.ts';
import { downloadGpt2 } from '../models/load.ts';
import { BUNDLED_TOKENIZER_PATH, encodeCorpus, tokenizerFromJson, type Tokenizer } from '../models/tokenizer.ts';
import { ENGINE_VERSION } from '../experiments/run/engineVersion.ts';
import { gpt2Columns, newRecordId, RECORD_VERSION, type Gpt2RunRecord } from '../results/records.ts';
import { gpt2Summary } from '../results/summary.ts';
import { kebab, UsageError } from './args.ts';
import { writeBundleFile } from './bundleFile.ts';

/** A GPT-2-shaped model small enough for SwiftShader smoke runs (the tests' fixture dimensions). */
const TINY: Gpt2Config = { model_type: 'gpt2', n_embd: 32, n_layer: 2, n_head: 4, n_positions: 64, vocab_size: 320, layer_norm_epsilon: 1e-5, n_inner: 128, activation_function: 'gelu_new' };

const OPTIONS: Record<string, boolean> = {
  model: false, weights: false, random: true, text: false, 'text-chars': false, targets: false, plan: true, json: true,
  generate: false, 'max-new-tokens': false, temperature: false, 'top-k': false, 'memory-budget-mib': false,
  'max-binding-mib': false, 'max-vocab-chunk': false, 'eval-fraction': false, profile: true, out: false,
};
const FLAG_TO_KEY = new Map(GPT2_KEYS.map((k) => [kebab(k), k]));

function parse(argv: string[]): { run: Gpt2RunConfig; opts: Map<string, string | true> } {
  const run = defaultGpt2RunConfig() as Record<string, unknown>;
  const opts = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument "${arg}"`);
    let [name, value] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    const key = FLAG_TO_KEY.get(name);
    if (!key && !(name in OPTIONS)) throw new UsageError(`unknown flag --${name}`);
    const isSwitch = key ? GPT2_FIELDS[key].kind === 'bool' : OPTIONS[name];
    if (value === undefined) {
      if (isSwitch) value = 'true';
      else if ((value = argv[++i]) === undefined) throw new UsageError(`--${name} needs a value`);
    }
    if (key) {
      const r = parseGpt2Field(key, value);
      if (!r.ok) throw new UsageError(`--${name}: ${r.error}`);
      run[key] = r.value;
    } else if (name === 'targets') {
      const r = parseTargets(value);
      if (!r.ok) throw new UsageError(`--targets: ${r.error}`);
      run.targets = r.value;
    } else {
      opts.set(name, isSwitch ? true : value);
    }
  }
  return { run: run as Gpt2RunConfig, opts };
}

function num(opts: Map<string, string | true>, name: string, fallback: number): number {
  const v = opts.get(name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (typeof v !== 'string' || !Number.isFinite(n) || n < 0) throw new UsageError(`--${name} must be a non-negative number`);
  return n;
}

async function loadWeights(model: string, opts: Map<string, string | true>): Promise<Gpt2Weights> {
  const dir = opts.get('weights');
  if (typeof dir === 'string') {
    let config: string, bytes: Uint8Array;
    try {
      config = readFileSync(join(dir, 'config.json'), 'utf8');
      bytes = readFileSync(join(dir, 'model.safetensors'));
    } catch (e) {
      throw new UsageError(`--weights ${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message} (the folder needs config.json and model.safetensors)`);
    }
    return loadGpt2(config, bytes);
  }
  if (model === 'tiny') return randomGpt2Weights(TINY, 1);
  if (opts.has('random')) return randomGpt2Weights(GPT2_MODELS[model as keyof typeof GPT2_MODELS].config, 1);
  return downloadGpt2(model as keyof typeof GPT2_MODELS);
}

async function bundledTokenizer(): Promise<Tokenizer> {
  const dir = join('public', BUNDLED_TOKENIZER_PATH);
  return tokenizerFromJson(JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')), JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8')));
}

/** A repeating seeded phrase (for the tiny model, whose 320-token vocabulary cannot hold GPT-2 BPE ids). */
function syntheticTokens(vocab: number, length: number): Uint32Array {
  const phrase = Uint32Array.from({ length: 23 }, (_, i) => (i * 7919 + 13) % vocab);
  return Uint32Array.from({ length }, (_, i) => phrase[i % phrase.length]);
}

function planSummary(plan: Gpt2Plan) {
  return {
    totalBytes: plan.total,
    total: formatBytes(plan.total),
    byGroup: Object.fromEntries(Object.entries(plan.byGroup).map(([g, b]) => [g, formatBytes(b)])),
    vocabChunks: plan.chunks.map((c) => c.rows),
    largestBuffer: `${plan.largest.name} ${formatBytes(plan.largest.bytes)}`,
  };
}

function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** GPU time per kernel family per step, largest first. */
function profileSummary(p: ProfileSummary) {
  return p.kernels
    .map((k) => ({ label: k.label, calls: k.calls, perStepMs: k.perStepMs ?? k.totalMs, share: `${((100 * k.totalMs) / p.totalMs).toFixed(1)}%` }))
    .sort((a, b) => b.perStepMs - a.perStepMs);
}

export async function gpt2Command(argv: string[]): Promise<string> {
  const { run, opts } = parse(argv);
  const model = typeof opts.get('model') === 'string' ? (opts.get('model') as string) : 'distilgpt2';
  if (model !== 'tiny' && !(model in GPT2_MODELS)) throw new UsageError(`--model must be one of tiny, ${Object.keys(GPT2_MODELS).join(', ')}`);
  const config = model === 'tiny' ? TINY : GPT2_MODELS[model as keyof typeof GPT2_MODELS].config;
  const memoryBudget = opts.has('memory-budget-mib') ? num(opts, 'memory-budget-mib', 0) * 2 ** 20 : DEFAULT_MEMORY_BUDGET;
  const maxVocabChunk = opts.has('max-vocab-chunk') ? num(opts, 'max-vocab-chunk', 0) : undefined;
  const ctx = await nodeGpuContext();
  // --max-binding-mib simulates an adapter with a smaller binding limit (e.g. WebGPU's default 128 MiB).
  const bind = opts.has('max-binding-mib') ? num(opts, 'max-binding-mib', 0) * 2 ** 20 : Infinity;
  const limits = { maxStorageBufferBindingSize: Math.min(bind, ctx.limits.maxStorageBufferBindingSize), maxBufferSize: Math.min(bind, ctx.limits.maxBufferSize) } as GPUSupportedLimits;
  const checked = checkGpt2Run({ limits }, config, run, { memoryBudget, maxVocabChunk });
  const log = (s: string) => process.stderr.write(s + '\n');
  log(`${model}: needs ${formatBytes(checked.plan.total)} (${Object.entries(checked.plan.byGroup).map(([g, b]) => `${g} ${formatBytes(b)}`).join(', ')}); vocabulary in ${checked.plan.chunks.length} chunk(s)`);
  if (opts.has('plan')) {
    const out = { model, adapter: ctx.adapterName, config: run, plan: planSummary(checked.plan), fits: checked.problems.length === 0, problems: checked.problems };
    return opts.has('json') ? JSON.stringify(out) : [`fits: ${out.fits}`, ...checked.problems.map((p) => `refused: ${p}`), JSON.stringify(out.plan, null, 2)].join('\n');
  }
  if (checked.problems.length) throw new Gpt2FitError(checked.problems, checked.plan);

  const t0 = performance.now();
  const weights = await loadWeights(model, opts);
  const tokenizer = model === 'tiny' ? undefined : await bundledTokenizer();
  const needed = (run.steps + 2) * run.batch * (run.seq + 1);
  let ids: Uint32Array;
  if (tokenizer) {
    const textFile = typeof opts.get('text') === 'string' ? (opts.get('text') as string) : 'public/data/tinyshakespeare.txt';
    const chars = num(opts, 'text-chars', Math.max(20_000, needed * 6));
    ids = await encodeCorpus(tokenizer, readFileSync(textFile, 'utf8').slice(0, chars));
  } else {
    ids = syntheticTokens(config.vocab_size, Math.max(needed, 20 * (run.seq + 1)));
  }
  const data = splitTokens(ids, num(opts, 'eval-fraction', 0.1));
  log(`weights and ${ids.length} tokens ready in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  const prof = opts.has('profile') ? createProfiler(ctx, 2048) : undefined;
  if (prof && !prof.available) throw new UsageError(prof.reason);
  const profiler = prof?.available ? prof : undefined;
  // A host whose context reports `limits` (possibly simulated): they decide the chunking; the device keeps its real limits.
  const host = new GpuHost(async () => ({ ...ctx, limits }));
  const session = await Gpt2Session.create(host, weights, run, data, { memoryBudget, maxVocabChunk, profiler });
  // Wall time per step, and this process's CPU time per step: on a CPU adapter (SwiftShader runs in this
  // process) the CPU time does not depend on what else the machine is running, the wall time does.
  const rows: Array<Gpt2StepMetrics & { seconds: number; cpuSeconds: number }> = [];
  let last = performance.now();
  let lastCpu = cpuSeconds();
  session.subscribe({
    onMetrics: (r) => {
      const t = performance.now();
      const cpu = cpuSeconds();
      for (const m of r) {
        rows.push({ ...m, seconds: (t - last) / 1000 / r.length, cpuSeconds: (cpu - lastCpu) / r.length });
        log(`step ${m.step}: loss ${m.loss.toFixed(4)} ppl ${m.perplexity.toFixed(1)}${m.evalLoss !== undefined ? ` eval ${m.evalLoss.toFixed(4)}` : ''} (${((t - last) / 1000).toFixed(1)} s, ${(cpu - lastCpu).toFixed(1)} CPU s)`);
      }
      last = t;
      lastCpu = cpu;
    },
  });
  let end;
  if (profiler) {
    // One step at a time, collecting the timestamps after each (the query set holds one step's dispatches).
    for (let i = 0; i < run.steps && session.state.status !== 'error' && session.state.status !== 'diverged'; i++) {
      await session.stepOnce();
      await profiler.collect();
    }
    end = session.state;
  } else {
    end = await session.runToEnd();
  }
  if (end.status === 'error' || end.status === 'lost') throw new Error(end.message ?? 'training failed');
  // Step 1 builds every pipeline (seconds each on SwiftShader): the rate is over steps 2.. when there are any.
  const timed = rows.length > 1 ? rows.slice(1) : rows;
  const secondsPerStep = timed.reduce((a, r) => a + r.seconds, 0) / Math.max(1, timed.length);
  const tokensPerSecond = (run.batch * run.seq) / secondsPerStep;
  const cpuSecondsPerStep = timed.reduce((a, r) => a + r.cpuSeconds, 0) / Math.max(1, timed.length);
  let generation: { prompt: string; text: string; ids: number[]; secondsPerToken: number } | undefined;
  const prompt = opts.get('generate');
  if (typeof prompt === 'string') {
    const promptIds = tokenizer ? tokenizer.encode(prompt) : [1, 2, 3];
    const g0 = performance.now();
    const gen = await session.generate(promptIds, { maxNewTokens: num(opts, 'max-new-tokens', 20), temperature: num(opts, 'temperature', 0), topK: num(opts, 'top-k', 0), seed: run.seed });
    generation = { prompt, ids: gen, text: tokenizer ? tokenizer.decode(gen) : gen.join(' '), secondsPerToken: (performance.now() - g0) / 1000 / Math.max(1, gen.length) };
    log(`generation: ${JSON.stringify(prompt)} -> ${JSON.stringify(generation.text)}`);
  }
  const summary = {
    model,
    adapter: ctx.adapterName,
    config: run,
    plan: planSummary(session.plan),
    memoryBytes: session.stats.memoryBytes,
    memory: formatBytes(session.stats.memoryBytes),
    steps: rows.map((r) => ({ step: r.step, loss: r.loss, perplexity: r.perplexity, evalLoss: r.evalLoss, seconds: r.seconds, cpuSeconds: r.cpuSeconds })),
    firstStepSeconds: rows[0]?.seconds,
    secondsPerStep,
    tokensPerSecond,
    cpuSecondsPerStep,
    diverged: end.divergedAt ?? null,
    generation,
    profile: profiler ? profileSummary(profiler.summary(rows.length)) : undefined,
  };
  const out = opts.get('out');
  if (typeof out === 'string') {
    const weights = await session.readAdapters();
    const textFile = opts.get('text');
    const record: Gpt2RunRecord = {
      v: RECORD_VERSION, kind: 'gpt2', id: newRecordId(), createdAt: Date.now(), engineVersion: ENGINE_VERSION, adapter: ctx.adapterName,
      status: end.status === 'diverged' ? 'diverged' : 'done', model, modelConfig: config,
      baseModel: typeof opts.get('weights') === 'string' ? `local weights (${opts.get('weights')})` : model === 'tiny' || opts.has('random') ? `random ${model} weights (seed 1; not on the hub)` : GPT2_MODELS[model as keyof typeof GPT2_MODELS].repo,
      text: !tokenizer ? 'synthetic' : typeof textFile === 'string' ? 'custom' : 'shakespeare', config: run, group: newRecordId(), divergedAt: end.divergedAt ?? null,
      adapters: session.adapters.map((a) => a.label), trace: gpt2Columns(rows), weights: { step: rows.at(-1)?.step ?? 0, tensors: weights },
      generations: generation ? [{ step: rows.at(-1)?.step ?? 0, mode: num(opts, 'temperature', 0) > 0 ? 'sample' : 'greedy', prompt: generation.prompt, text: generation.text.slice(0, 20000) }] : [],
    };
    log(await writeBundleFile(out, { kind: 'gpt2-runs', runs: [record], createdAt: new Date().toISOString(), title: gpt2Summary(record) }));
  }
  if (summary.profile) log(summary.profile.map((k) => `  ${k.label.padEnd(28)} ${k.perStepMs.toFixed(1).padStart(10)} ms/step  ${k.share}`).join('\n'));
  await session.dispose();
  log(`${model} on ${ctx.adapterName}: ${tokensPerSecond.toFixed(1)} tokens/s (${secondsPerStep.toFixed(2)} s and ${cpuSecondsPerStep.toFixed(1)} CPU s per step of ${run.batch} x ${run.seq} tokens), GPU memory ${summary.memory}`);
  return opts.has('json') ? JSON.stringify(summary) : rows.map((r) => `${r.step}\t${r.loss}\t${r.evalLoss ?? ''}`).join('\n');
}
