// `cli gpt2`: LoRA fine-tuning of GPT-2 in Node (Dawn; SwiftShader without a GPU), and its memory plan.
//   npm run --silent cli -- gpt2 [--model distilgpt2|gpt2|tiny] [--weights DIR | --random] [--text FILE]
//       [--adapter DIR] [--save-adapter DIR] [--targets attn.c_attn,...] [--rank 8 --alpha 16 --seq 128 ...]
//       [--order random|sequential --grad-accum 1 --schedule linear --warmup 0 --max-grad-norm 1
//        --dropout config|P --lora-dropout 0 ...]
//       [--plan] [--profile] [--generate PROMPT --max-new-tokens 20 --temperature 0 --top-k 0] [--json]
//   npm run --silent cli -- gpt2 --eval-only (--weights DIR | --model M) [--adapter DIR] --text FILE [--windows 64] [--json]
//       [--out FILE]    the run as a result bundle (trace, samples, the PEFT adapter; .gz to gzip)
// Weights: --weights DIR reads config.json + model.safetensors (the plan, the log and the JSON use that
// config); --random builds the model's shapes with random weights (timing and memory: a step costs the
// same whatever the values); otherwise the hub download.
// --adapter DIR starts from a PEFT LoRA adapter (r, lora_alpha, use_rslora, target_modules from its
// config; a flag that contradicts them is refused); --save-adapter DIR writes the trained one (PEFT's
// files and a README.md model card; after a lost device, the last copy read back). --eval-only: loss and
// perplexity over fixed evenly spaced windows of the text, no training. --json prints each step's window
// starts (offsets into the tokenized text).
// --plan prints what the configuration needs and whether this adapter takes it, and allocates nothing.
// --profile times every dispatch (one pass each, so slower than a normal step) and prints GPU time per kernel.
// Everything the user gave is checked before any work: flags, the weights folder's config.json (the plan
// is the loaded model's), the text, and the plan against this adapter and the memory budget.
import { readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { adapterFolder, type AdapterOrigin, type LoadedAdapter } from '../experiments/gpt2/adapterFiles.ts';
import { defaultGpt2RunConfig, GPT2_FIELDS, gpt2ConfigError, parseTargets, type Gpt2Key, type Gpt2RunConfig } from '../experiments/gpt2/config.ts';
import { evaluateText } from '../experiments/gpt2/evaluate.ts';
import { Gpt2Trainer } from '../experiments/gpt2/trainer.ts';
import { randomGpt2Weights } from '../experiments/gpt2/random.ts';
import { checkGpt2Run, Gpt2Session, splitTokens, type Gpt2StepMetrics } from '../experiments/gpt2/session.ts';
import { formatBytes, type Gpt2Plan } from '../experiments/gpt2/plan.ts';
import { decodeText, quote } from '../experiments/untrusted.ts';
import { GpuHost } from '../gpu/host.ts';
import { createProfiler, type ProfileSummary } from '../gpu/timing.ts';
import { Gpt2Error, GPT2_DROPOUT, GPT2_MODELS, loadGpt2, parseGpt2Config, type Gpt2Config, type Gpt2Weights } from '../models/gpt2.ts';
import type { LoraWeights } from '../models/peft.ts';
import { downloadGpt2 } from '../models/load.ts';
import { SafetensorsError } from '../models/safetensors.ts';
import { BUNDLED_TOKENIZER_PATH, encodeCorpus, tokenizerFromJson, type Tokenizer } from '../models/tokenizer.ts';
import { ENGINE_VERSION } from '../experiments/run/engineVersion.ts';
import { gpt2Columns, newRecordId, RECORD_VERSION, type Gpt2RunRecord } from '../results/records.ts';
import { gpt2Summary } from '../results/summary.ts';
import { numberOption, parseFlags, textOption, UsageError, type OptionSpecs } from './args.ts';
import { writeBundleFile } from './bundleFile.ts';
import { readAdapterDir, runWithAdapter, writeAdapterDir } from './gpt2Files.ts';
import { assertNoGpuErrors, openGpu } from './gpu.ts';
import { checkInputFile, keepElsewhere, MAX_TEXT_BYTES, readJsonFile } from './paths.ts';

/** A GPT-2-shaped model small enough for SwiftShader smoke runs (the tests' fixture dimensions). */
const TINY: Gpt2Config = { model_type: 'gpt2', n_embd: 32, n_layer: 2, n_head: 4, n_positions: 64, vocab_size: 320, layer_norm_epsilon: 1e-5, n_inner: 128, activation_function: 'gelu_new', ...GPT2_DROPOUT };
const MODELS = ['tiny', ...Object.keys(GPT2_MODELS)];
/** A bound on generated tokens that keeps a command finite. */
const MAX_NEW_TOKENS = 4096;
/** readFileSync's limit for a binary file. */
const MAX_WEIGHTS_BYTES = 2 ** 31 - 1;

/** Files that ship with the project, found from here (not from the current folder). */
const projectFile = (...parts: string[]) => fileURLToPath(new URL(join('../..', ...parts), import.meta.url));

const OPTIONS: OptionSpecs = {
  model: { kind: 'enum', options: MODELS },
  weights: { kind: 'dir' },
  random: true,
  text: { kind: 'file' },
  'text-chars': { kind: 'int', min: 1, max: MAX_TEXT_BYTES },
  targets: { kind: 'text', check: (v) => { const r = parseTargets(v); return r.ok ? null : r.error; } },
  plan: true,
  json: true,
  generate: { kind: 'text' },
  'max-new-tokens': { kind: 'int', min: 1, max: MAX_NEW_TOKENS },
  temperature: { kind: 'number', min: 0, max: 100 },
  'top-k': { kind: 'int', min: 0, max: 1_000_000 },
  'memory-budget-mib': false,
  'max-binding-mib': { kind: 'number', min: 1, max: 2 ** 20 },
  'max-vocab-chunk': { kind: 'int', min: 1, max: 1_000_000 },
  'eval-fraction': { kind: 'number', min: 0, max: 0.9 },
  profile: true,
  adapter: { kind: 'dir' },
  'save-adapter': { kind: 'out-dir' },
  'eval-only': true,
  windows: { kind: 'int', min: 1, max: 100_000 },
  out: false,
};
/** Read the adapters back this often while training with --save-adapter, so a lost device keeps a copy. */
const SNAPSHOT_EVERY_MS = 10_000;

type Options = Map<string, string | true>;

/** Flags that only make sense together, refused otherwise (a flag silently ignored would pass as used). */
function checkCombinations(opts: Options): void {
  const has = (n: string) => opts.has(n);
  if (has('weights') && has('random')) throw new UsageError('give --weights DIR or --random, not both');
  if (has('weights') && has('model')) throw new UsageError('--weights DIR says which model it is (its config.json); leave out --model');
  for (const g of ['max-new-tokens', 'temperature', 'top-k']) if (has(g) && !has('generate')) throw new UsageError(`--${g} needs --generate PROMPT`);
  if (has('plan')) for (const x of ['generate', 'profile', 'text', 'text-chars']) if (has(x)) throw new UsageError(`--plan allocates nothing and trains nothing; --${x} would need a run`);
  if (has('eval-only')) for (const x of ['save-adapter', 'generate', 'profile', 'plan']) if (has(x)) throw new UsageError(`--eval-only trains nothing; leave out --${x}`);
  if (has('windows') && !has('eval-only')) throw new UsageError('--windows needs --eval-only');
  if (opts.get('model') === 'tiny') {
    for (const x of ['text', 'text-chars']) if (has(x)) throw new UsageError(`--${x}: the tiny model trains on synthetic tokens (its 320-token vocabulary cannot hold GPT-2's tokens); use --model distilgpt2 or gpt2 for a text`);
  }
}

/**
 * The model: its config (tiny's, the hub's, or the weights folder's config.json) and, from a weights
 * folder, the weights themselves: read and checked here, before any GPU work, so a truncated or lying
 * file is refused with one line. (`configOnly`: --plan, which reads config.json and nothing else.)
 */
function modelFromFlags(opts: Options, configOnly: boolean): { name: string; config: Gpt2Config; weights?: Gpt2Weights } {
  const dir = textOption(opts, 'weights');
  if (dir === undefined) {
    const model = textOption(opts, 'model') ?? 'distilgpt2';
    return { name: model, config: model === 'tiny' ? TINY : GPT2_MODELS[model as keyof typeof GPT2_MODELS].config };
  }
  const where = `--weights ${quote(dir, 80)}`;
  const raw = readJsonFile('--weights', join(dir, 'config.json'));
  const asUsage = (e: unknown) => (e instanceof Gpt2Error || e instanceof SafetensorsError ? new UsageError(`${where}: ${(e as Error).message}`) : e);
  let config: Gpt2Config;
  try {
    config = parseGpt2Config(raw);
  } catch (e) {
    throw asUsage(e);
  }
  if (configOnly) return { name: dir, config };
  const file = join(dir, 'model.safetensors');
  checkInputFile('--weights', file, MAX_WEIGHTS_BYTES);
  try {
    return { name: dir, config, weights: loadGpt2(raw, readFileSync(file)) };
  } catch (e) {
    throw asUsage(e);
  }
}

/** Where the model comes from, for the adapter's model card and base_model_name_or_path (null: not on the hub). */
function modelOrigin(model: string, opts: Options): Pick<AdapterOrigin, 'baseModel' | 'baseLabel'> {
  const dir = textOption(opts, 'weights');
  if (dir !== undefined) return { baseModel: resolve(dir), baseLabel: `the GPT-2 in ${resolve(dir)}` };
  if (model === 'tiny') return { baseModel: null, baseLabel: 'the tiny random GPT-2 of the CLI (seed 1)' };
  const m = GPT2_MODELS[model as keyof typeof GPT2_MODELS];
  if (opts.has('random')) return { baseModel: null, baseLabel: `random ${model}-shaped weights (seed 1)` };
  return { baseModel: m.repo, baseLabel: m.repo };
}

function makeWeights(model: string, config: Gpt2Config, opts: Options): Promise<Gpt2Weights> | Gpt2Weights {
  if (model === 'tiny') return randomGpt2Weights(TINY, 1);
  if (opts.has('random')) return randomGpt2Weights(config, 1);
  return downloadGpt2(model as keyof typeof GPT2_MODELS);
}

async function bundledTokenizer(): Promise<Tokenizer> {
  const dir = projectFile('public', BUNDLED_TOKENIZER_PATH);
  return tokenizerFromJson(JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')), JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8')));
}

/** The training text: UTF-8 text with something in it (a binary or empty file is refused). */
function readTrainingText(flag: string, path: string, chars: number): string {
  checkInputFile(flag, path);
  const r = decodeText(readFileSync(path));
  if (!r.ok) throw new UsageError(`${flag} ${quote(path, 80)} ${r.error}`);
  return r.value.slice(0, chars);
}

/** A repeating seeded phrase (for the tiny model, whose 320-token vocabulary cannot hold GPT-2 BPE ids). */
function syntheticTokens(vocab: number, length: number): Uint32Array {
  const phrase = Uint32Array.from({ length: 23 }, (_, i) => (i * 7919 + 13) % vocab);
  return Uint32Array.from({ length }, (_, i) => phrase[i % phrase.length]);
}

/**
 * The tokens to train on and the prompt's, checked before any GPU work: the text must give a training
 * window (and a held-out one), every id must be in the model's vocabulary.
 */
async function trainingData(tiny: boolean, config: Gpt2Config, run: Gpt2RunConfig, opts: Options, evalFraction: number): Promise<{ ids: Uint32Array; tokenizer?: Tokenizer; promptIds: number[] }> {
  const needed = (run.steps + 2) * run.batch * run.gradAccum * (run.seq + 1);
  let tokenizer: Tokenizer | undefined;
  let ids: Uint32Array;
  if (tiny) ids = syntheticTokens(config.vocab_size, Math.max(needed, 20 * (run.seq + 1)));
  else {
    tokenizer = await bundledTokenizer();
    const chars = numberOption(opts, 'text-chars', opts.has('eval-only') ? MAX_TEXT_BYTES : Math.max(20_000, needed * 6));
    const text = readTrainingText('--text', textOption(opts, 'text') ?? projectFile('public', 'data', 'tinyshakespeare.txt'), chars);
    ids = await encodeCorpus(tokenizer, text);
  }
  const tooBig = ids.findIndex((id) => id >= config.vocab_size);
  if (tooBig >= 0) throw new UsageError(`the text's token ${ids[tooBig]} is outside the model's vocabulary (${config.vocab_size}): this model does not use GPT-2's tokenizer`);
  const data = splitTokens(ids, evalFraction);
  const window = run.seq + 1;
  const source = textOption(opts, 'text') !== undefined ? '--text' : '--text-chars';
  if (data.train.length < window) throw new UsageError(`${source}: the text gives ${data.train.length} training tokens; --seq ${run.seq} needs at least ${window} (a longer text, more --text-chars or a shorter --seq)`);
  if (run.evalEvery > 0 && evalFraction > 0 && (data.eval?.length ?? 0) < window) throw new UsageError(`${source}: the held-out ${evalFraction} of the text gives ${data.eval?.length ?? 0} tokens; --seq ${run.seq} needs at least ${window} (a longer text, a larger --eval-fraction or --eval-every 0)`);
  // The tiny model has no tokenizer: the prompt's UTF-8 bytes are its token ids (all below its vocabulary of 320).
  const prompt = textOption(opts, 'generate');
  const promptIds = prompt === undefined ? [] : tokenizer ? tokenizer.encode(prompt) : [...new TextEncoder().encode(prompt)];
  if (prompt !== undefined && (!promptIds.length || promptIds.some((id) => id >= config.vocab_size))) throw new UsageError(`--generate: the prompt gives ${promptIds.length ? `a token outside the model's vocabulary (${config.vocab_size})` : 'no tokens'}`);
  return { ids, tokenizer, promptIds };
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
  const parsed = parseFlags(argv, GPT2_FIELDS, OPTIONS);
  const opts = parsed.options;
  checkCombinations(opts);
  let run: Gpt2RunConfig = { ...defaultGpt2RunConfig(), ...parsed.settings };
  const given = new Set<Gpt2Key | 'targets'>(parsed.given);
  const targets = textOption(opts, 'targets');
  if (targets !== undefined) {
    run.targets = (parseTargets(targets) as { ok: true; value: Gpt2RunConfig['targets'] }).value;
    given.add('targets');
  }
  const { name: model, config, weights: fromFolder } = modelFromFlags(opts, opts.has('plan'));
  // An adapter says its rank, alpha, rsLoRA and targets; a flag that contradicts it is refused.
  const adapterDir = textOption(opts, 'adapter');
  let adapter: LoadedAdapter | undefined;
  if (adapterDir !== undefined) {
    adapter = readAdapterDir(adapterDir, config);
    run = runWithAdapter(run, given, adapter, adapterDir);
  }
  // The defaults fit the model: a sequence no longer than its positions unless one was asked for.
  if (!parsed.given.has('seq')) run.seq = Math.min(run.seq, config.n_positions);
  const topK = numberOption(opts, 'top-k', 0);
  if (topK > config.vocab_size) throw new UsageError(`--top-k must be at most the model's vocabulary (${config.vocab_size})`);
  const configError = gpt2ConfigError(run, config);
  if (configError && !opts.has('plan')) throw new UsageError(configError);

  const gpu = await openGpu(opts);
  const ctx = gpu.ctx;
  const memoryBudget = gpu.budget;
  const maxVocabChunk = numberOption(opts, 'max-vocab-chunk');
  // --max-binding-mib simulates an adapter with a smaller binding limit (e.g. WebGPU's default 128 MiB).
  const bind = numberOption(opts, 'max-binding-mib', Infinity) * 2 ** 20;
  const limits = { maxStorageBufferBindingSize: Math.min(bind, ctx.limits.maxStorageBufferBindingSize), maxBufferSize: Math.min(bind, ctx.limits.maxBufferSize) } as GPUSupportedLimits;
  const checked = checkGpt2Run({ limits }, config, run, { memoryBudget, maxVocabChunk });
  const problems = configError ? [configError, ...checked.problems] : checked.problems;
  const log = (s: string) => process.stderr.write(s + '\n');
  const needs = `${model}: needs ${formatBytes(checked.plan.total)} (${Object.entries(checked.plan.byGroup).map(([g, b]) => `${g} ${formatBytes(b)}`).join(', ')}); vocabulary in ${checked.plan.chunks.length} chunk(s)`;
  if (opts.has('plan')) {
    if (!problems.length) log(needs); // a refused plan says why in its output
    const out = { model, adapter: ctx.adapterName, modelConfig: config, config: run, plan: planSummary(checked.plan), fits: problems.length === 0, problems };
    return opts.has('json') ? JSON.stringify(out) : [`fits: ${out.fits}`, ...problems.map((p) => `refused: ${p}`), JSON.stringify(out.plan, null, 2)].join('\n');
  }
  if (problems.length) throw new UsageError(`this configuration will not fit: ${problems.join('; ')}`);
  // The data, after the cheap plan and before any GPU work.
  const t0 = performance.now();
  const evalFraction = numberOption(opts, 'eval-fraction', 0.1);
  const { ids, tokenizer, promptIds } = await trainingData(model === 'tiny', config, run, opts, evalFraction);
  log(needs); // after every check of the data: an error is one line
  if (adapter) log(`adapter ${adapterDir}: r ${run.rank}, alpha ${run.alpha}${run.rslora ? ', rsLoRA' : ''} on ${run.targets.join(', ')}${adapter.zeroFilled ? ` (${adapter.zeroFilled} modules it leaves out start at zero)` : ''}`);

  const weights = fromFolder ?? (await makeWeights(model, config, opts));
  if (opts.has('eval-only')) return evaluateOnly({ ...ctx, limits }, weights, run, ids, adapter, { model, adapterDir, opts, log, memoryBudget, maxVocabChunk });
  const data = splitTokens(ids, evalFraction);
  log(`weights and ${ids.length} tokens ready in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  const prof = opts.has('profile') ? createProfiler(ctx, 2048) : undefined;
  if (prof && !prof.available) throw new UsageError(prof.reason);
  const profiler = prof?.available ? prof : undefined;
  // A host whose context reports `limits` (possibly simulated): they decide the chunking; the device keeps its real limits.
  const host = new GpuHost(async () => ({ ...ctx, limits }));
  const starts = new Map<number, readonly number[]>();
  const session = await Gpt2Session.create(host, weights, run, data, { memoryBudget, maxVocabChunk, profiler, adapters: adapter?.weights, onBatch: (step, s) => starts.set(step, s) });
  const saveDir = textOption(opts, 'save-adapter');
  let snapshot: { step: number; weights: LoraWeights[] } | undefined;
  let lastSnapshot = performance.now();
  const adapterFiles = (weights: LoraWeights[], steps: number) => {
    const text = tokenizer ? (textOption(opts, 'text') !== undefined ? basename(textOption(opts, 'text')!) : 'tiny Shakespeare') : 'a synthetic token stream';
    return adapterFolder(config, run, weights, { ...modelOrigin(model, opts), steps, loss: rows[steps - 1]?.loss, text });
  };
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
      if (saveDir !== undefined && t - lastSnapshot > SNAPSHOT_EVERY_MS) {
        lastSnapshot = t;
        const step = r[r.length - 1].step;
        session.readAdapters().then((w) => (snapshot = { step, weights: w }), () => undefined);
      }
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
  if (end.status === 'error' || end.status === 'lost') {
    // Not a result: the metrics so far are kept aside, and with --save-adapter the last copy of the
    // adapters read back before the fault (marked with its step in the model card).
    const kept = keepElsewhere('gpt2-partial.json', JSON.stringify({ model, status: end.status, message: end.message, config: run, steps: rows }));
    let adapterNote = '';
    if (saveDir !== undefined && snapshot) {
      writeAdapterDir(saveDir, adapterFiles(snapshot.weights, snapshot.step));
      adapterNote = `; the adapters as of step ${snapshot.step} are in ${saveDir}`;
    }
    throw new Error(`${(end.message ?? 'training failed').split('\n')[0]}${kept ? `; the metrics of the ${rows.length} steps before it are in ${kept}` : ''}${adapterNote}`);
  }
  // Step 1 builds every pipeline (seconds each on SwiftShader): the rate is over steps 2.. when there are any.
  const timed = rows.length > 1 ? rows.slice(1) : rows;
  const secondsPerStep = timed.reduce((a, r) => a + r.seconds, 0) / Math.max(1, timed.length);
  const tokensPerSecond = (run.batch * run.seq * run.gradAccum) / secondsPerStep;
  const cpuSecondsPerStep = timed.reduce((a, r) => a + r.cpuSeconds, 0) / Math.max(1, timed.length);
  let generation: { prompt: string; text: string; ids: number[]; promptSeconds: number; tokensPerSecond: number } | undefined;
  const prompt = textOption(opts, 'generate');
  if (prompt !== undefined) {
    const gen = await session.generate(promptIds, { maxNewTokens: numberOption(opts, 'max-new-tokens', 20), temperature: numberOption(opts, 'temperature', 0), topK, seed: run.seed });
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
  const out = textOption(opts, 'out');
  const finalWeights = out !== undefined || saveDir !== undefined ? await session.readAdapters() : [];
  if (saveDir !== undefined) {
    const folder = adapterFiles(finalWeights, rows.length);
    writeAdapterDir(saveDir, folder);
    log(`adapter saved to ${saveDir} (${Object.keys(folder).join(', ')})`);
  }
  if (out !== undefined) {
    const lastStep = rows.at(-1)?.step ?? 0;
    const record: Gpt2RunRecord = {
      v: RECORD_VERSION, kind: 'gpt2', id: newRecordId(), createdAt: Date.now(), engineVersion: ENGINE_VERSION, adapter: ctx.adapterName,
      status: end.status === 'diverged' ? 'diverged' : 'done', model, modelConfig: config, baseModel: modelOrigin(model, opts).baseLabel,
      text: !tokenizer ? 'synthetic' : textOption(opts, 'text') !== undefined ? 'custom' : 'shakespeare', config: run, group: newRecordId(), divergedAt: end.divergedAt ?? null,
      adapters: session.adapters.map((a) => a.label), trace: gpt2Columns(rows), weights: { step: lastStep, tensors: finalWeights },
      generations: generation ? [{ step: lastStep, mode: numberOption(opts, 'temperature', 0) > 0 ? 'sample' : 'greedy', prompt: generation.prompt, text: generation.text.slice(0, 20000) }] : [],
    };
    log(await writeBundleFile(out, { kind: 'gpt2-runs', runs: [record], createdAt: new Date().toISOString(), title: gpt2Summary(record) }));
  }
  await session.dispose();
  assertNoGpuErrors(host);
  log(`${model} on ${ctx.adapterName}: ${tokensPerSecond.toFixed(1)} tokens/s (${secondsPerStep.toFixed(2)} s and ${cpuSecondsPerStep.toFixed(1)} CPU s per step of ${run.batch}${run.gradAccum > 1 ? ` x ${run.gradAccum}` : ''} x ${run.seq} tokens), GPU memory ${summary.memory}`);
  return opts.has('json') ? JSON.stringify(summary) : rows.map((r) => `${r.step}\t${r.loss}\t${r.evalLoss ?? ''}`).join('\n');
}

/**
 * --eval-only: mean next-token loss and perplexity of the model (with the adapter, if given) over fixed
 * windows of seq + 1 tokens evenly spaced through the whole text, batch windows at a time. No training.
 */
async function evaluateOnly(
  ctx: Parameters<typeof Gpt2Trainer.create>[0],
  weights: Gpt2Weights,
  run: Gpt2RunConfig,
  ids: Uint32Array,
  adapter: LoadedAdapter | undefined,
  o: { model: string; adapterDir?: string; opts: Options; log: (s: string) => void; memoryBudget: number; maxVocabChunk?: number },
): Promise<string> {
  if (ids.length < run.seq + 1) throw new UsageError(`--eval-only: the text has ${ids.length} tokens; a window of --seq ${run.seq} needs ${run.seq + 1}`);
  // No adapter: a zero one (B = 0) adds exactly nothing, so this is the base model's loss.
  const trainer = await Gpt2Trainer.create(ctx, weights, { ...run, init: 'A', steps: 1 }, { train: ids }, { memoryBudget: o.memoryBudget, maxVocabChunk: o.maxVocabChunk, adapters: adapter?.weights });
  try {
    const e = await evaluateText(trainer, ids, numberOption(o.opts, 'windows', 64));
    const adapterDir = o.adapterDir ?? null;
    o.log(`${o.model}${adapterDir ? ` + adapter ${adapterDir}` : ''}: loss ${e.loss.toFixed(4)}, perplexity ${e.perplexity.toFixed(2)} over ${e.starts.length} windows of ${e.seq} tokens (${ids.length} tokens of text)`);
    const out = { model: o.model, adapter: adapterDir, modelConfig: weights.config, tokens: ids.length, windows: e.starts.length, ...e };
    return o.opts.has('json') ? JSON.stringify(out) : `loss\t${e.loss}\nperplexity\t${e.perplexity}`;
  } finally {
    trainer.destroy();
  }
}
