// Drives the GPT-2 engine for the tab, on the page's one device (pageGpu.ts): the weights (hub download
// with progress and cache, or the tiny random model), the tokenised text, one Gpt2Session per run
// (Init[A] and Init[B] from the same seed side by side when comparing, taking turns on the device, or one
// after the other when two do not fit the memory budget), generations, and the PEFT export. Metric rows
// are appended to the run's array as they arrive; the store's `rev` moves once per animation frame. A
// copy of each run's adapters is read back every few seconds, so a lost device keeps them downloadable.
// A loaded PEFT adapter is what a run starts from; it can also be opened without training, to evaluate
// it on the held-out text or generate with it. Nothing here imports React; nothing throws at the UI.
import { defaultMemoryBudget } from '../gpu/budget.ts';
import { checkGpt2Run, Gpt2FitError, Gpt2Session, splitTokens, type Gpt2RunConfig } from '../experiments/gpt2/session.ts';
import { randomGpt2Weights } from '../experiments/gpt2/random.ts';
import type { GpuContext } from '../gpu/device.ts';
import { GPT2_MODELS, type Gpt2Weights } from '../models/gpt2.ts';
import { HubError, type FileProgress } from '../models/hub.ts';
import { downloadGpt2 } from '../models/load.ts';
import type { LoraWeights } from '../models/peft.ts';
import { adapterFolder, type AdapterFolder, type AdapterOrigin } from '../experiments/gpt2/adapterFiles.ts';
import { BUNDLED_TOKENIZER_PATH, encodeCorpus, loadTokenizerFromUrl, type Tokenizer } from '../models/tokenizer.ts';
import { gpt2Features } from '../selfcheck/families.ts';
import { recordGpt2End, recordGpt2Rows, recordGpt2Start, recordGpt2Weights } from './history/gpt2.ts';
import { newGroupId } from './history/recorder.ts';
import { trainingRefusal } from './gpuCheckStore.ts';
import { pageHost } from './pageGpu.ts';
import { BUNDLED_TEXT_PATH, modelConfig, RUN_COLORS, TINY_GPT2_CONFIG, useGpt2Store, type Generation, type Gpt2ModelChoice, type Gpt2Run } from './gpt2Store.ts';

/** WebGPU does not say how much memory a GPU has: a laptop budget, smaller on a software adapter. */
export const budgetFor = (software: boolean) => defaultMemoryBudget({ isSoftware: software });

const weightsCache = new Map<string, Gpt2Weights>();
let tokenizer: Promise<Tokenizer> | null = null;
let corpus: { key: string; ids: Uint32Array } | null = null;
const sessions = new Map<number, Gpt2Session>();
/** The last copy of each run's adapters on the CPU (kept when the device is lost). */
const snapshots = new Map<number, { step: number; weights: LoraWeights[] }>();
/** Read each run's adapters back this often while it trains. */
const SNAPSHOT_EVERY_MS = 10_000;
/** The training text as last split (what evaluations of a run measure: its held-out part). */
let lastData: ReturnType<typeof splitTokens> | null = null;
/** Windows an evaluation averages over. */
const EVAL_WINDOWS = 32;
/** The adapter choice the open untrained run was made from (openAdapter reuses that run). */
let openedAdapter: unknown = null;
let nextRunId = 1;
let nextGenId = 1;
let abort: AbortController | null = null;
let stopRequested = false;

const store = () => useGpt2Store.getState();
const base = () => (import.meta.env?.BASE_URL ?? '/');
const getCtx = () => pageHost.context();

// ---- frame-rate publication ----
let frame = false;
function bump(): void {
  if (frame) return;
  frame = true;
  const raf = globalThis.requestAnimationFrame ?? ((f: FrameRequestCallback) => setTimeout(() => f(0), 16));
  raf(() => {
    frame = false;
    useGpt2Store.setState((s) => ({ rev: s.rev + 1, runs: [...s.runs] }));
  });
}

function patchRun(id: number, patch: Partial<Gpt2Run>): void {
  const runs = store().runs;
  const i = runs.findIndex((r) => r.id === id);
  if (i >= 0) Object.assign(runs[i], patch);
  bump();
}

function describeError(e: unknown): string {
  if (e instanceof HubError) {
    if (e.kind === 'network') return `Could not download the model from the Hugging Face hub. ${e.message} Or pick the tiny model, which needs no download.`;
    return `Could not download the model: ${e.message}`;
  }
  if (e instanceof Gpt2FitError) return `Refused before starting: ${e.problems.join('; ')}.`;
  return e instanceof Error ? e.message : String(e);
}

// ---- the plan, before anything starts ----

/** The memory plan of the form's configuration (no allocation); recomputed as the form changes. */
export async function refreshPlan(): Promise<void> {
  const s = store();
  if (!s.config) return s.set({ plan: null });
  let c: GpuContext;
  try {
    c = await getCtx();
  } catch {
    return s.set({ plan: null });
  }
  const model = modelConfig(s.model);
  const compare = s.config;
  try {
    const result = checkGpt2Run(c, model, compare, { memoryBudget: budgetFor(c.isSoftware) });
    if (store().config === compare) store().set({ plan: result });
  } catch (e) {
    store().set({ plan: null, failure: describeError(e) });
  }
}

export function memoryBudget(): number | null {
  const ctx = pageHost.current;
  return ctx ? budgetFor(ctx.isSoftware) : null;
}

// ---- weights and text ----

async function loadWeights(model: Gpt2ModelChoice, seed: number): Promise<Gpt2Weights> {
  const key = model === 'tiny' ? `tiny:${seed}` : model;
  const hit = weightsCache.get(key);
  if (hit) return hit;
  let w: Gpt2Weights;
  if (model === 'tiny') {
    store().set({ phase: 'downloading', phaseText: 'Building the tiny random GPT-2…', download: [] });
    await new Promise((r) => setTimeout(r, 0));
    w = randomGpt2Weights(TINY_GPT2_CONFIG, seed);
  } else {
    store().set({ phase: 'downloading', phaseText: `Downloading ${GPT2_MODELS[model].repo} from the Hugging Face hub (once; cached for the next visit)…`, download: [] });
    abort = new AbortController();
    const files = new Map<string, FileProgress>();
    let pending = false;
    const onProgress = (p: FileProgress) => {
      files.set(p.file, p);
      if (pending) return;
      pending = true;
      requestAnimationFrame(() => {
        pending = false;
        store().set({ download: [...files.values()] });
      });
    };
    w = await downloadGpt2(model, { onProgress, signal: abort.signal, onCacheWarning: (m) => store().set({ phaseText: m }) });
    store().set({ download: [...files.values()] });
  }
  weightsCache.clear(); // one model in memory at a time
  weightsCache.set(key, w);
  return w;
}

async function loadCorpus(): Promise<Uint32Array> {
  const s = store();
  let text: string;
  let key: string;
  if (s.textSource === 'shakespeare') {
    key = 'shakespeare';
    if (corpus?.key === key) return corpus.ids;
    s.set({ phase: 'loading-text', phaseText: 'Loading tiny Shakespeare…' });
    const res = await fetch(base() + BUNDLED_TEXT_PATH);
    if (!res.ok) throw new Error(`Could not load the bundled text (HTTP ${res.status}).`);
    text = await res.text();
  } else {
    text = s.customText;
    key = `custom:${text.length}:${text.slice(0, 64)}:${text.slice(-64)}`;
    if (corpus?.key === key) return corpus.ids;
  }
  tokenizer ??= loadTokenizerFromUrl(base() + BUNDLED_TOKENIZER_PATH).catch((e) => {
    tokenizer = null;
    throw e;
  });
  const tok = await tokenizer;
  const ids = await encodeCorpus(tok, text, { onProgress: (d, t) => store().set({ phase: 'loading-text', phaseText: `Tokenising the text… ${Math.round((100 * d) / t)}%` }) });
  corpus = { key, ids };
  return ids;
}

// ---- training ----

function disposeAll(): void {
  for (const run of store().runs) recordGpt2End(run, store().generations); // runs left paused end as interrupted
  for (const s of sessions.values()) void s.dispose();
  sessions.clear();
  snapshots.clear();
}

/** Train the form's configuration, or Init[A] and Init[B] from the same seed side by side. */
export async function train(compare: boolean): Promise<void> {
  const s = store();
  const config = s.config;
  if (!config || s.phase !== 'idle') return;
  const refused = trainingRefusal('gpt2', { uses: gpt2Features(config, modelConfig(s.model)) });
  if (refused) return s.set({ failure: refused });
  stopRequested = false;
  disposeAll();
  s.set({ failure: null, runs: [], generations: [] });
  // A loaded adapter is the start: Init[A] vs Init[B] would both start from it, so there is nothing to compare.
  const adapter = s.adapter?.loaded ?? undefined;
  const inits: Array<'A' | 'B'> = compare && !adapter ? ['A', 'B'] : [config.init];
  try {
    const c = await getCtx();
    const budget = budgetFor(c.isSoftware);
    const check = checkGpt2Run(c, modelConfig(s.model), config, { memoryBudget: budget });
    if (check.problems.length) {
      store().set({ plan: check, failure: `This configuration will not fit: ${check.problems.join('; ')}.` });
      return;
    }
    const weights = await loadWeights(s.model, config.seed);
    const data = await trainingData(config);
    const group = newGroupId();
    const runs: Gpt2Run[] = inits.map((init) => ({
      id: nextRunId++, init, color: RUN_COLORS[init], status: 'queued', config: { ...config, init }, model: s.model, adapters: [], rows: [], step: 0, tokensPerSecond: 0, memoryBytes: 0, plannedBytes: check.plan.total, adapterName: adapter ? s.adapter!.name : undefined,
    }));
    store().set({ runs, phase: 'training', phaseText: '' });
    // Side by side when both fit the budget at once; otherwise one after the other.
    const together = runs.length > 1 && runs.length * check.plan.total <= budget;
    if (together) {
      const started = await Promise.all(runs.map((run) => prepareRun(weights, data, run, budget, group, adapter?.weights)));
      await Promise.all(started.map((session, i) => (session ? trainRun(session, runs[i]) : undefined)));
    } else {
      if (runs.length > 1) store().set({ phaseText: `Two runs need ${formatBytesShort(2 * check.plan.total)}, over this adapter's budget: Init[A] trains first, then Init[B].` });
      for (const run of runs) {
        if (stopRequested) {
          patchRun(run.id, { status: 'paused', message: 'Not started (stopped).' });
          continue;
        }
        const session = await prepareRun(weights, data, run, budget, group, adapter?.weights);
        if (session) await trainRun(session, run);
      }
    }
  } catch (e) {
    store().set({ failure: describeError(e) });
  } finally {
    abort = null;
    store().set({ phase: 'idle', phaseText: '' });
    bump();
  }
}

const formatBytesShort = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;

/** The tokenised text split into training and held-out parts (kept for evaluations). */
async function trainingData(config: Gpt2RunConfig): Promise<ReturnType<typeof splitTokens>> {
  const ids = await loadCorpus();
  const need = config.seq + 1;
  if (ids.length < 2 * need) throw new Error(`The text has ${ids.length} tokens; a sequence length of ${config.seq} needs at least ${2 * need}. Use a longer text or a shorter sequence.`);
  lastData = splitTokens(ids, Math.max(need / ids.length, Math.min(0.1, 1 - need / ids.length)));
  return lastData;
}

async function prepareRun(weights: Gpt2Weights, data: ReturnType<typeof splitTokens>, run: Gpt2Run, budget: number, group: string, adapters?: readonly LoraWeights[]): Promise<Gpt2Session | null> {
  patchRun(run.id, { status: 'preparing' });
  let session: Gpt2Session;
  try {
    session = await Gpt2Session.create(pageHost, weights, run.config, data, { memoryBudget: budget, readEvery: 1, adapters });
  } catch (e) {
    patchRun(run.id, { status: 'error', message: describeError(e) });
    return null;
  }
  sessions.set(run.id, session);
  patchRun(run.id, { status: 'ready', adapters: session.adapters.map((a) => a.label), plannedBytes: session.stats.plannedBytes, memoryBytes: session.stats.memoryBytes });
  const s = store();
  recordGpt2Start(run, { model: run.model, modelConfig: modelConfig(run.model), baseModel: baseModelOf(run), text: s.textSource, group, adapters: run.adapters }, (await getCtx()).adapterName);
  return session;
}

async function trainRun(session: Gpt2Session, run: Gpt2Run): Promise<void> {
  // A sample before training (the adapters start as a no-op under Init[A]).
  void generateFor(run.id, 'greedy');
  const mid = Math.max(1, Math.floor(run.config.steps / 2));
  let midDone = false;
  let lastSnapshot = performance.now();
  session.subscribe({
    onMetrics(rows) {
      run.rows.push(...rows);
      recordGpt2Rows(run.id);
      const st = session.stats;
      const step = rows[rows.length - 1].step;
      patchRun(run.id, { step, tokensPerSecond: st.tokensPerSecond, memoryBytes: st.memoryBytes });
      if (!midDone && run.step >= mid && run.step < run.config.steps) {
        midDone = true;
        void generateFor(run.id, 'sample');
      }
      if (performance.now() - lastSnapshot > SNAPSHOT_EVERY_MS) {
        lastSnapshot = performance.now();
        void snapshot(run.id, session, step);
      }
    },
    onStatus(e) {
      const status = e.status === 'ready' ? 'preparing' : e.status;
      const kept = snapshots.get(run.id);
      const lostNote = e.status === 'lost' ? (kept ? ` Its adapters as of step ${kept.step} can still be downloaded.` : ' No copy of its adapters was made before the loss.') : '';
      patchRun(run.id, { status, message: e.status === 'diverged' ? `Diverged at step ${e.divergedAt}.` : e.message ? e.message + lostNote : undefined });
    },
  });
  await session.start();
  const end = session.state.status;
  if (end === 'done' || end === 'diverged') {
    await snapshot(run.id, session, run.step);
    await Promise.all([generateFor(run.id, 'greedy'), generateFor(run.id, 'sample')]);
  }
  if (end !== 'paused') recordGpt2End(run, store().generations);
  if (end === 'lost') {
    sessions.delete(run.id);
    void session.dispose();
  }
}

/** A CPU copy of a run's adapters (queued behind the steps already submitted). */
async function snapshot(runId: number, session: Gpt2Session, step: number): Promise<void> {
  try {
    const weights = await session.readAdapters();
    snapshots.set(runId, { step, weights });
    recordGpt2Weights(runId, step, weights);
  } catch {
    /* the device went away meanwhile: the last copy stays */
  }
}

export async function stop(): Promise<void> {
  stopRequested = true;
  abort?.abort();
  await Promise.all([...sessions.values()].map((s) => s.pause()));
}

export async function resume(): Promise<void> {
  const paused = store().runs.filter((r) => r.status === 'paused' && sessions.has(r.id));
  if (!paused.length || store().phase !== 'idle') return;
  store().set({ phase: 'training' });
  try {
    await Promise.all(paused.map((r) => sessions.get(r.id)!.start()));
  } finally {
    store().set({ phase: 'idle' });
  }
}

// ---- generations ----

/** A generation from the prompt with the run's adapters as they are now (queued between steps). */
export async function generateFor(runId: number, mode: 'greedy' | 'sample'): Promise<void> {
  const session = sessions.get(runId);
  const run = store().runs.find((r) => r.id === runId);
  if (!session || !run) return;
  const s = store();
  const tok = await (tokenizer ?? Promise.reject(new Error('no tokenizer')));
  const promptText = s.prompt.trim() || '\n';
  let prompt = tok.encode(promptText);
  const window = run.config.seq;
  if (prompt.length >= window) prompt = prompt.slice(prompt.length - Math.max(1, Math.floor(window / 2)));
  const g: Generation = { id: nextGenId++, runId, step: run.step, mode, prompt: promptText, text: '', pending: true };
  const refused = trainingRefusal('gpt2', { uses: ['generation'], action: 'Generation' });
  if (refused) return store().set({ generations: [...store().generations, { ...g, text: `(${refused})`, pending: false }] });
  store().set({ generations: [...store().generations, g] });
  const ids: number[] = [];
  const update = (patch: Partial<Generation>) => store().set({ generations: store().generations.map((x) => (x.id === g.id ? { ...x, ...patch } : x)) });
  try {
    let last = 0;
    const result = await session.generate(prompt, {
      maxNewTokens: Math.min(20, window - prompt.length),
      temperature: mode === 'greedy' ? 0 : s.temperature,
      topK: mode === 'greedy' ? 0 : 40,
      seed: run.config.seed + g.id,
      onToken: (id) => {
        ids.push(id);
        const t = performance.now();
        if (t - last > 50) {
          last = t;
          update({ text: tok.decode(ids) });
        }
      },
    });
    update({ text: tok.decode(ids), pending: false, step: g.step, tokensPerSecond: result.tokensPerSecond });
  } catch (e) {
    update({ text: `(generation failed: ${e instanceof Error ? e.message : String(e)})`, pending: false });
  }
}

// ---- a loaded adapter, without training ----

/**
 * Opens the loaded adapter as a run that has not trained (step 0): then `evaluate` measures it on the
 * held-out text, `generate` samples from it (greedy and at the chosen temperature). Train continues it.
 */
export async function openAdapter(action: 'evaluate' | 'generate'): Promise<void> {
  const s = store();
  const adapter = s.adapter?.loaded;
  const config = s.config;
  if (!adapter || !config || s.phase !== 'idle') return;
  // Already open with these settings (evaluated, now generating, or the other way round): use it.
  const open = openedAdapter === s.adapter ? s.runs.find((r) => r.step === 0 && r.config === config && sessions.has(r.id)) : undefined;
  if (open) return action === 'evaluate' ? evaluateRun(open.id) : void (await Promise.all([generateFor(open.id, 'greedy'), generateFor(open.id, 'sample')]));
  disposeAll();
  openedAdapter = s.adapter;
  s.set({ failure: null, runs: [], generations: [], phase: 'training', phaseText: `Opening ${s.adapter!.name}…` });
  try {
    const c = await getCtx();
    const budget = budgetFor(c.isSoftware);
    const check = checkGpt2Run(c, modelConfig(s.model), config, { memoryBudget: budget });
    if (check.problems.length) return store().set({ plan: check, failure: `This configuration will not fit: ${check.problems.join('; ')}.` });
    const weights = await loadWeights(s.model, config.seed);
    const data = await trainingData(config);
    const run: Gpt2Run = {
      id: nextRunId++, init: config.init, color: RUN_COLORS[config.init], status: 'queued', config, model: s.model, adapters: [], rows: [], step: 0, tokensPerSecond: 0, memoryBytes: 0, plannedBytes: check.plan.total, adapterName: s.adapter!.name,
    };
    store().set({ runs: [run], phaseText: '' });
    const session = await prepareRun(weights, data, run, budget, newGroupId(), adapter.weights);
    if (!session) return;
    patchRun(run.id, { status: 'paused', message: `Loaded from ${run.adapterName}; Train continues it.` });
    if (action === 'evaluate') await evaluateRun(run.id);
    else await Promise.all([generateFor(run.id, 'greedy'), generateFor(run.id, 'sample')]);
  } catch (e) {
    store().set({ failure: describeError(e) });
  } finally {
    store().set({ phase: 'idle', phaseText: '' });
    bump();
  }
}

/** Loss and perplexity of a run's adapters as they are now, on the held-out part of the text. */
export async function evaluateRun(runId: number): Promise<void> {
  const session = sessions.get(runId);
  const run = store().runs.find((r) => r.id === runId);
  if (!session || !run || !lastData) return;
  const ids = lastData.eval && lastData.eval.length > run.config.seq ? lastData.eval : lastData.train;
  try {
    const e = await session.evaluate(ids, EVAL_WINDOWS);
    patchRun(runId, { evaluation: { loss: e.loss, perplexity: e.perplexity, seq: e.seq, windows: e.starts.length, step: run.step } });
  } catch (e) {
    patchRun(runId, { message: `Evaluation failed: ${e instanceof Error ? e.message : String(e)}` });
  }
}

// ---- export ----

/**
 * The PEFT folder of a run's adapters (adapter_config.json, adapter_model.safetensors and a README.md
 * model card): as they are now, or, after the device was lost, as of the last copy read back.
 */
export async function exportAdapter(runId: number): Promise<AdapterFolder | null> {
  const session = sessions.get(runId);
  const run = store().runs.find((r) => r.id === runId);
  if (!run) return null;
  const live = session && session.state.status !== 'lost';
  const copy = snapshots.get(runId);
  const weights = live ? await session.readAdapters() : copy?.weights;
  if (!weights) return null;
  const c = run.config;
  const s = store();
  const origin: AdapterOrigin = {
    // The tiny model is random weights built here from the seed: no hub id that loading would try to fetch.
    baseModel: run.model === 'tiny' ? null : GPT2_MODELS[run.model].repo,
    baseLabel: baseModelOf(run),
    steps: live ? run.step : copy!.step,
    loss: run.rows[run.rows.length - 1]?.loss,
    text: s.textSource === 'shakespeare' ? 'tiny Shakespeare' : s.customName || 'pasted text',
  };
  return adapterFolder(modelConfig(run.model), c, weights, origin);
}

/** The base model in words (records, model cards): the hub id, or the tiny random model's seed (not on the hub). */
export const baseModelOf = (run: Gpt2Run): string => (run.model === 'tiny' ? `the playground's tiny random GPT-2 (seed ${run.config.seed})` : GPT2_MODELS[run.model].repo);

/** Show stored runs (history, a link, a bundle) in place of the tab's runs: no session; their adapter copy stays downloadable. */
export function showStoredRuns(items: ReadonlyArray<{ run: Gpt2Run; generations: Generation[]; weights: { step: number; weights: LoraWeights[] } | null }>): boolean {
  if (store().phase !== 'idle') return false;
  disposeAll();
  for (const { run, weights } of items) if (weights) snapshots.set(run.id, weights);
  store().set({ failure: null, runs: items.map((i) => i.run), generations: items.flatMap((i) => i.generations) });
  bump();
  return true;
}

/** The last CPU copy of a run's adapters (a finished run's final ones), or null. */
export function adapterSnapshot(runId: number): { step: number; weights: LoraWeights[] } | null {
  return snapshots.get(runId) ?? null;
}

export type { Gpt2RunConfig };
