// `cli gpt2`: LoRA fine-tuning of GPT-2 in Node (Dawn; SwiftShader without a GPU), and its memory plan.
//   npm run --silent cli -- gpt2 [--model distilgpt2|gpt2|tiny] [--weights DIR | --random] [--text FILE]
//       [--adapter DIR] [--save-adapter DIR] [--targets attn.c_attn,...] [--rank 8 --alpha 16 --seq 128 ...]
//       [--order random|sequential --grad-accum 1 --schedule linear --warmup 0 --max-grad-norm 1
//        --dropout config|P --lora-dropout 0 ...]
//       [--plan] [--profile] [--generate PROMPT --max-new-tokens 20 --temperature 0 --top-k 0] [--json]
//   npm run --silent cli -- gpt2 --eval-only (--weights DIR | --model M) [--adapter DIR] --text FILE [--windows 64] [--json]
// Weights: --weights DIR reads config.json + model.safetensors (the plan, the log and the JSON use that
// config); --random builds the model's shapes with random weights (timing and memory: a step costs the
// same whatever the values); otherwise the hub download.
// --adapter DIR starts from a PEFT LoRA adapter (r, lora_alpha, use_rslora, target_modules from its
// config; a flag that contradicts them is refused); --save-adapter DIR writes the trained one (PEFT's
// files and a README.md model card). --eval-only: loss and perplexity over fixed evenly spaced windows
// of the text, no training. --json prints each step's window starts (offsets into the tokenized text).
// --plan prints what the configuration needs and whether this adapter takes it, and allocates nothing.
// --profile times every dispatch (one pass each, so slower than a normal step) and prints GPU time per kernel.
import { readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { adapterFolder, type AdapterOrigin, type LoadedAdapter } from '../experiments/gpt2/adapterFiles.ts';
import { evaluateText } from '../experiments/gpt2/evaluate.ts';
import { Gpt2Trainer } from '../experiments/gpt2/trainer.ts';
import { defaultGpt2RunConfig, GPT2_FIELDS, GPT2_KEYS, gpt2ConfigError, parseGpt2Field, parseTargets, type Gpt2Key, type Gpt2RunConfig } from '../experiments/gpt2/config.ts';
import { randomGpt2Weights } from '../experiments/gpt2/random.ts';
import { checkGpt2Run, Gpt2FitError, Gpt2Session, splitTokens, type Gpt2StepMetrics } from '../experiments/gpt2/session.ts';
import { DEFAULT_MEMORY_BUDGET, formatBytes, type Gpt2Plan } from '../experiments/gpt2/plan.ts';
import { GpuHost } from '../gpu/host.ts';
import { nodeGpuContext } from '../gpu/node.ts';
import { createProfiler, type ProfileSummary } from '../gpu/timing.ts';
import { GPT2_DROPOUT, GPT2_MODELS, loadGpt2, type Gpt2Config, type Gpt2Weights } from '../models/gpt2.ts';
import { downloadGpt2 } from '../models/load.ts';
import { BUNDLED_TOKENIZER_PATH, encodeCorpus, tokenizerFromJson, type Tokenizer } from '../models/tokenizer.ts';
import { kebab, UsageError } from './args.ts';
import { readAdapterDir, readModelConfig, runWithAdapter, writeAdapterDir } from './gpt2Files.ts';

/** A GPT-2-shaped model small enough for SwiftShader smoke runs (the tests' fixture dimensions). */
const TINY: Gpt2Config = { model_type: 'gpt2', n_embd: 32, n_layer: 2, n_head: 4, n_positions: 64, vocab_size: 320, layer_norm_epsilon: 1e-5, n_inner: 128, activation_function: 'gelu_new', ...GPT2_DROPOUT };

const OPTIONS: Record<string, boolean> = {
  model: false, weights: false, random: true, text: false, 'text-chars': false, targets: false, plan: true, json: true,
  generate: false, 'max-new-tokens': false, temperature: false, 'top-k': false, 'memory-budget-mib': false,
  'max-binding-mib': false, 'max-vocab-chunk': false, 'eval-fraction': false, profile: true,
  adapter: false, 'save-adapter': false, 'eval-only': true, windows: false,
};
const FLAG_TO_KEY = new Map(GPT2_KEYS.map((k) => [kebab(k), k]));

function parse(argv: string[]): { run: Gpt2RunConfig; opts: Map<string, string | true>; given: Set<Gpt2Key | 'targets'> } {
  const run = defaultGpt2RunConfig() as Record<string, unknown>;
  const opts = new Map<string, string | true>();
  const given = new Set<Gpt2Key | 'targets'>();
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
      given.add(key);
    } else if (name === 'targets') {
      const r = parseTargets(value);
      if (!r.ok) throw new UsageError(`--targets: ${r.error}`);
      run.targets = r.value;
      given.add('targets');
    } else {
      opts.set(name, isSwitch ? true : value);
    }
  }
  return { run: run as Gpt2RunConfig, opts, given };
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

/** The model the run uses: its config (from --weights DIR's config.json when given), its name, and where it comes from. */
function modelSource(opts: Map<string, string | true>): { name: string; config: Gpt2Config; origin: Pick<AdapterOrigin, 'baseModel' | 'baseLabel'> } {
  const dir = opts.get('weights');
  const model = typeof opts.get('model') === 'string' ? (opts.get('model') as string) : 'distilgpt2';
  if (model !== 'tiny' && !(model in GPT2_MODELS)) throw new UsageError(`--model must be one of tiny, ${Object.keys(GPT2_MODELS).join(', ')}`);
  if (typeof dir === 'string') {
    if (opts.has('random')) throw new UsageError('--weights and --random exclude each other');
    const config = readModelConfig(dir);
    return { name: basename(resolve(dir)), config, origin: { baseModel: resolve(dir), baseLabel: `the GPT-2 in ${resolve(dir)}` } };
  }
  if (model === 'tiny') return { name: 'tiny', config: TINY, origin: { baseModel: null, baseLabel: 'the tiny random GPT-2 of the CLI (seed 1)' } };
  const m = GPT2_MODELS[model as keyof typeof GPT2_MODELS];
  if (opts.has('random')) return { name: model, config: m.config, origin: { baseModel: null, baseLabel: `random ${model}-shaped weights (seed 1)` } };
  return { name: model, config: m.config, origin: { baseModel: m.repo, baseLabel: m.repo } };
}

function readText(opts: Map<string, string | true>, chars: number): string {
  const file = typeof opts.get('text') === 'string' ? (opts.get('text') as string) : 'public/data/tinyshakespeare.txt';
  try {
    return readFileSync(file, 'utf8').slice(0, chars);
  } catch (e) {
    throw new UsageError(`--text ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

export async function gpt2Command(argv: string[]): Promise<string> {
  const parsed = parse(argv);
  let run = parsed.run;
  const { opts, given } = parsed;
  const source = modelSource(opts);
  const { name: model, config } = source;
  const adapterDir = opts.get('adapter');
  let adapter: LoadedAdapter | undefined;
  if (typeof adapterDir === 'string') {
    adapter = readAdapterDir(adapterDir, config);
    run = runWithAdapter(run, given, adapter, adapterDir);
  }
  const unfit = gpt2ConfigError(run, config);
  if (unfit) throw new UsageError(unfit);
  const evalOnly = opts.has('eval-only');
  if (evalOnly && opts.has('save-adapter')) throw new UsageError('--save-adapter needs training: leave out --eval-only');
  const memoryBudget = opts.has('memory-budget-mib') ? num(opts, 'memory-budget-mib', 0) * 2 ** 20 : DEFAULT_MEMORY_BUDGET;
  const maxVocabChunk = opts.has('max-vocab-chunk') ? num(opts, 'max-vocab-chunk', 0) : undefined;
  const ctx = await nodeGpuContext();
  // --max-binding-mib simulates an adapter with a smaller binding limit (e.g. WebGPU's default 128 MiB).
  const bind = opts.has('max-binding-mib') ? num(opts, 'max-binding-mib', 0) * 2 ** 20 : Infinity;
  const limits = { maxStorageBufferBindingSize: Math.min(bind, ctx.limits.maxStorageBufferBindingSize), maxBufferSize: Math.min(bind, ctx.limits.maxBufferSize) } as GPUSupportedLimits;
  const checked = checkGpt2Run({ limits }, config, run, { memoryBudget, maxVocabChunk });
  const log = (s: string) => process.stderr.write(s + '\n');
  log(`${model}: needs ${formatBytes(checked.plan.total)} (${Object.entries(checked.plan.byGroup).map(([g, b]) => `${g} ${formatBytes(b)}`).join(', ')}); vocabulary in ${checked.plan.chunks.length} chunk(s)`);
  if (adapter) log(`adapter ${adapterDir}: r ${run.rank}, alpha ${run.alpha}${run.rslora ? ', rsLoRA' : ''} on ${run.targets.join(', ')}${adapter.zeroFilled ? ` (${adapter.zeroFilled} modules it leaves out start at zero)` : ''}`);
  if (opts.has('plan')) {
    const out = { model, adapter: ctx.adapterName, modelConfig: config, config: run, plan: planSummary(checked.plan), fits: checked.problems.length === 0, problems: checked.problems };
    return opts.has('json') ? JSON.stringify(out) : [`fits: ${out.fits}`, ...checked.problems.map((p) => `refused: ${p}`), JSON.stringify(out.plan, null, 2)].join('\n');
  }
  if (checked.problems.length) throw new Gpt2FitError(checked.problems, checked.plan);

  const t0 = performance.now();
  const weights = await loadWeights(model, opts);
  // GPT-2's tokenizer for GPT-2's vocabulary; a smaller model (the tiny one) trains on a synthetic stream.
  const tokenizer = config.vocab_size === GPT2_MODELS.gpt2.config.vocab_size ? await bundledTokenizer() : undefined;
  if (!tokenizer && opts.has('text')) throw new UsageError(`--text needs GPT-2's tokenizer (50257 tokens); this model's vocabulary has ${config.vocab_size}`);
  const needed = (run.steps + 2) * run.batch * run.gradAccum * (run.seq + 1);
  let ids: Uint32Array;
  if (tokenizer) {
    const chars = num(opts, 'text-chars', evalOnly ? Infinity : Math.max(20_000, needed * 6));
    ids = await encodeCorpus(tokenizer, readText(opts, chars));
  } else {
    ids = syntheticTokens(config.vocab_size, Math.max(needed, 20 * (run.seq + 1)));
  }
  log(`weights and ${ids.length} tokens ready in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  if (evalOnly) return evaluateOnly(ctx, limits, weights, run, ids, adapter, { model, opts, log, memoryBudget, maxVocabChunk });
  const data = splitTokens(ids, num(opts, 'eval-fraction', 0.1));

  const prof = opts.has('profile') ? createProfiler(ctx, 2048) : undefined;
  if (prof && !prof.available) throw new UsageError(prof.reason);
  const profiler = prof?.available ? prof : undefined;
  // A host whose context reports `limits` (possibly simulated): they decide the chunking; the device keeps its real limits.
  const host = new GpuHost(async () => ({ ...ctx, limits }));
  const starts = new Map<number, readonly number[]>();
  const session = await Gpt2Session.create(host, weights, run, data, { memoryBudget, maxVocabChunk, profiler, adapters: adapter?.weights, onBatch: (step, s) => starts.set(step, s) });
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
        log(`step ${m.step}: loss ${m.loss.toFixed(4)} ppl ${m.perplexity.toFixed(1)}${m.evalLoss !== undefined ? ` eval ${m.evalLoss.toFixed(4)}` : ''} lr ${(run.eta * m.lrScale).toExponential(2)}${m.gradNorm !== undefined ? ` |g| ${m.gradNorm.toFixed(3)}` : ''} (${((t - last) / 1000).toFixed(1)} s, ${(cpu - lastCpu).toFixed(1)} CPU s)`);
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
  const tokensPerSecond = (run.batch * run.seq * run.gradAccum) / secondsPerStep;
  const cpuSecondsPerStep = timed.reduce((a, r) => a + r.cpuSeconds, 0) / Math.max(1, timed.length);
  let generation: { prompt: string; text: string; ids: number[]; promptSeconds: number; tokensPerSecond: number } | undefined;
  const prompt = opts.get('generate');
  if (typeof prompt === 'string') {
    const promptIds = tokenizer ? tokenizer.encode(prompt) : [1, 2, 3];
    const gen = await session.generate(promptIds, { maxNewTokens: num(opts, 'max-new-tokens', 20), temperature: num(opts, 'temperature', 0), topK: num(opts, 'top-k', 0), seed: run.seed });
    generation = { prompt, ids: gen.ids, text: tokenizer ? tokenizer.decode(gen.ids) : gen.ids.join(' '), promptSeconds: gen.promptSeconds, tokensPerSecond: gen.tokensPerSecond };
    log(`generation: ${JSON.stringify(prompt)} -> ${JSON.stringify(generation.text)} (${gen.tokensPerSecond.toFixed(2)} tokens/s after ${gen.promptSeconds.toFixed(2)} s for the prompt)`);
  }
  const summary = {
    model,
    adapter: ctx.adapterName,
    modelConfig: config,
    config: run,
    plan: planSummary(session.plan),
    memoryBytes: session.stats.memoryBytes,
    memory: formatBytes(session.stats.memoryBytes),
    steps: rows.map((r) => ({ step: r.step, loss: r.loss, perplexity: r.perplexity, evalLoss: r.evalLoss, lr: run.eta * r.lrScale, gradNorm: r.gradNorm, starts: starts.get(r.step), seconds: r.seconds, cpuSeconds: r.cpuSeconds })),
    firstStepSeconds: rows[0]?.seconds,
    secondsPerStep,
    tokensPerSecond,
    cpuSecondsPerStep,
    diverged: end.divergedAt ?? null,
    generation,
    profile: profiler ? profileSummary(profiler.summary(rows.length)) : undefined,
  };
  if (summary.profile) log(summary.profile.map((k) => `  ${k.label.padEnd(28)} ${k.perStepMs.toFixed(1).padStart(10)} ms/step  ${k.share}`).join('\n'));
  const saveDir = opts.get('save-adapter');
  if (typeof saveDir === 'string') {
    const text = tokenizer ? (typeof opts.get('text') === 'string' ? basename(opts.get('text') as string) : 'tiny Shakespeare') : 'a synthetic token stream';
    const folder = adapterFolder(config, run, await session.readAdapters(), { ...source.origin, steps: rows.length, loss: rows[rows.length - 1]?.loss, text });
    writeAdapterDir(saveDir, folder);
    log(`adapter saved to ${saveDir} (${Object.keys(folder).join(', ')})`);
  }
  await session.dispose();
  log(`${model} on ${ctx.adapterName}: ${tokensPerSecond.toFixed(1)} tokens/s (${secondsPerStep.toFixed(2)} s and ${cpuSecondsPerStep.toFixed(1)} CPU s per step of ${run.batch}${run.gradAccum > 1 ? ` x ${run.gradAccum}` : ''} x ${run.seq} tokens), GPU memory ${summary.memory}`);
  return opts.has('json') ? JSON.stringify(summary) : rows.map((r) => `${r.step}\t${r.loss}\t${r.evalLoss ?? ''}`).join('\n');
}

/**
 * --eval-only: mean next-token loss and perplexity of the model (with the adapter, if given) over fixed
 * windows of seq + 1 tokens evenly spaced through the whole text, batch windows at a time. No training.
 */
async function evaluateOnly(
  ctx: Awaited<ReturnType<typeof nodeGpuContext>>,
  limits: GPUSupportedLimits,
  weights: Gpt2Weights,
  run: Gpt2RunConfig,
  ids: Uint32Array,
  adapter: LoadedAdapter | undefined,
  o: { model: string; opts: Map<string, string | true>; log: (s: string) => void; memoryBudget: number; maxVocabChunk?: number },
): Promise<string> {
  if (ids.length < run.seq + 1) throw new UsageError(`--eval-only: the text has ${ids.length} tokens; a window of --seq ${run.seq} needs ${run.seq + 1}`);
  // No adapter: a zero one (B = 0) adds exactly nothing, so this is the base model's loss.
  const trainer = await Gpt2Trainer.create({ ...ctx, limits }, weights, { ...run, init: 'A', steps: 1 }, { train: ids }, { memoryBudget: o.memoryBudget, maxVocabChunk: o.maxVocabChunk, adapters: adapter?.weights });
  try {
    const e = await evaluateText(trainer, ids, num(o.opts, 'windows', 64));
    const adapterDir = adapter ? String(o.opts.get('adapter')) : null;
    o.log(`${o.model}${adapterDir ? ` + adapter ${adapterDir}` : ''}: loss ${e.loss.toFixed(4)}, perplexity ${e.perplexity.toFixed(2)} over ${e.starts.length} windows of ${e.seq} tokens (${ids.length} tokens of text)`);
    const out = { model: o.model, adapter: adapterDir, modelConfig: weights.config, tokens: ids.length, windows: e.starts.length, ...e };
    return o.opts.has('json') ? JSON.stringify(out) : `loss\t${e.loss}\nperplexity\t${e.perplexity}`;
  } finally {
    trainer.destroy();
  }
}
