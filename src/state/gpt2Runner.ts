// Drives the GPT-2 engine for the tab: its own GPU context (opened on first use), the weights (hub
// download with progress and cache, or the tiny random model), the tokenised text, one Gpt2Session per
// run (Init[A] and Init[B] one after the other from the same seed when comparing), generations, and the
// PEFT export. Metric rows are appended to the run's array as they arrive; the store's `rev` moves once
// per animation frame. Nothing here imports React; nothing throws at the UI.
import { checkGpt2Run, Gpt2FitError, Gpt2Session, splitTokens, type Gpt2RunConfig } from '../experiments/gpt2/session.ts';
import { randomGpt2Weights } from '../experiments/gpt2/random.ts';
import { createGpuContext, type GpuContext } from '../gpu/device.ts';
import { GPT2_MODELS, type Gpt2Weights } from '../models/gpt2.ts';
import { HubError, type FileProgress } from '../models/hub.ts';
import { downloadGpt2 } from '../models/load.ts';
import { exportPeftAdapter } from '../models/peft.ts';
import { BUNDLED_TOKENIZER_PATH, encodeCorpus, loadTokenizerFromUrl, type Tokenizer } from '../models/tokenizer.ts';
import { BUNDLED_TEXT_PATH, modelConfig, RUN_COLORS, TINY_GPT2_CONFIG, useGpt2Store, type Generation, type Gpt2ModelChoice, type Gpt2Run } from './gpt2Store.ts';

/** WebGPU does not say how much memory a GPU has: a laptop budget, smaller on a software adapter. */
export const budgetFor = (software: boolean) => (software ? 2 * 2 ** 30 : 4 * 2 ** 30);

let ctx: GpuContext | null = null;
let ctxPromise: Promise<GpuContext> | null = null;
const weightsCache = new Map<string, Gpt2Weights>();
let tokenizer: Promise<Tokenizer> | null = null;
let corpus: { key: string; ids: Uint32Array } | null = null;
const sessions = new Map<number, Gpt2Session>();
let nextRunId = 1;
let nextGenId = 1;
let abort: AbortController | null = null;
let stopRequested = false;

const store = () => useGpt2Store.getState();
const base = () => (import.meta.env?.BASE_URL ?? '/');

function getCtx(): Promise<GpuContext> {
  if (ctx) return Promise.resolve(ctx);
  ctxPromise ??= createGpuContext(globalThis.navigator?.gpu).then((c) => {
    ctx = c;
    c.lost.then(() => {
      ctx = null;
      ctxPromise = null;
      for (const s of sessions.values()) s.dispose();
      sessions.clear();
      for (const r of store().runs) if (r.status === 'running' || r.status === 'preparing' || r.status === 'paused') patchRun(r.id, { status: 'error', message: 'The GPU device was lost; the run stopped.' });
      bump();
    });
    return c;
  }, (e) => {
    ctxPromise = null;
    throw e;
  });
  return ctxPromise;
}

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
  for (const s of sessions.values()) s.dispose();
  sessions.clear();
}

/** Train the form's configuration (or Init[A] and Init[B] from the same seed, one after the other). */
export async function train(compare: boolean): Promise<void> {
  const s = store();
  const config = s.config;
  if (!config || s.phase !== 'idle') return;
  stopRequested = false;
  disposeAll();
  s.set({ failure: null, runs: [], generations: [] });
  const inits: Array<'A' | 'B'> = compare ? ['A', 'B'] : [config.init];
  try {
    const c = await getCtx();
    const budget = budgetFor(c.isSoftware);
    const check = checkGpt2Run(c, modelConfig(s.model), config, { memoryBudget: budget });
    if (check.problems.length) {
      store().set({ plan: check, failure: `This configuration will not fit: ${check.problems.join('; ')}.` });
      return;
    }
    const weights = await loadWeights(s.model, config.seed);
    const ids = await loadCorpus();
    const need = config.seq + 1;
    if (ids.length < 2 * need) throw new Error(`The text has ${ids.length} tokens; a sequence length of ${config.seq} needs at least ${2 * need}. Use a longer text or a shorter sequence.`);
    const data = splitTokens(ids, Math.max(need / ids.length, Math.min(0.1, 1 - need / ids.length)));
    const runs: Gpt2Run[] = inits.map((init, i) => ({
      id: nextRunId++, init, color: RUN_COLORS[init], status: i === 0 ? 'preparing' : 'queued', config: { ...config, init }, model: s.model, adapters: [], rows: [], step: 0, tokensPerSecond: 0, memoryBytes: 0, plannedBytes: check.plan.total,
    }));
    store().set({ runs, phase: 'training', phaseText: '' });
    for (const run of runs) {
      if (stopRequested) {
        patchRun(run.id, { status: 'paused', message: 'Not started (stopped).' });
        continue;
      }
      await trainOne(c, weights, data, run, budget);
    }
  } catch (e) {
    store().set({ failure: describeError(e) });
  } finally {
    abort = null;
    store().set({ phase: 'idle', phaseText: '' });
    bump();
  }
}

async function trainOne(c: GpuContext, weights: Gpt2Weights, data: ReturnType<typeof splitTokens>, run: Gpt2Run, budget: number): Promise<void> {
  let session: Gpt2Session;
  patchRun(run.id, { status: 'preparing' });
  try {
    session = await Gpt2Session.create(c, weights, run.config, data, { memoryBudget: budget, readEvery: 1 });
  } catch (e) {
    patchRun(run.id, { status: 'error', message: describeError(e) });
    return;
  }
  sessions.set(run.id, session);
  patchRun(run.id, { adapters: session.adapters.map((a) => a.label), plannedBytes: session.stats.plannedBytes, memoryBytes: session.stats.memoryBytes });
  // A sample before training (the adapters start as a no-op under Init[A]).
  void generateFor(run.id, 'greedy');
  const mid = Math.max(1, Math.floor(run.config.steps / 2));
  let midDone = false;
  session.subscribe({
    onMetrics(rows) {
      run.rows.push(...rows);
      const st = session.stats;
      patchRun(run.id, { step: rows[rows.length - 1].step, tokensPerSecond: st.tokensPerSecond, memoryBytes: st.memoryBytes });
      if (!midDone && run.step >= mid && run.step < run.config.steps) {
        midDone = true;
        void generateFor(run.id, 'sample');
      }
    },
    onStatus(e) {
      const status = e.status === 'ready' ? 'preparing' : e.status;
      patchRun(run.id, { status, message: e.status === 'diverged' ? `Diverged at step ${e.divergedAt}.` : e.message });
    },
  });
  await session.start();
  if (session.state.status === 'done' || session.state.status === 'diverged') {
    await Promise.all([generateFor(run.id, 'greedy'), generateFor(run.id, 'sample')]);
  }
}

export async function stop(): Promise<void> {
  stopRequested = true;
  abort?.abort();
  await Promise.all([...sessions.values()].map((s) => s.pause()));
}

export async function resume(): Promise<void> {
  const run = store().runs.find((r) => r.status === 'paused' && sessions.has(r.id));
  if (!run || store().phase !== 'idle') return;
  store().set({ phase: 'training' });
  try {
    await sessions.get(run.id)!.start();
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
  store().set({ generations: [...store().generations, g] });
  const ids: number[] = [];
  const update = (patch: Partial<Generation>) => store().set({ generations: store().generations.map((x) => (x.id === g.id ? { ...x, ...patch } : x)) });
  try {
    let last = 0;
    await session.generate(prompt, {
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
    update({ text: tok.decode(ids), pending: false, step: g.step });
  } catch (e) {
    update({ text: `(generation failed: ${e instanceof Error ? e.message : String(e)})`, pending: false });
  }
}

// ---- export ----

/** adapter_config.json + adapter_model.safetensors of a run's adapters as they are now. */
export async function exportAdapter(runId: number): Promise<{ 'adapter_config.json': string; 'adapter_model.safetensors': Uint8Array } | null> {
  const session = sessions.get(runId);
  const run = store().runs.find((r) => r.id === runId);
  if (!session || !run) return null;
  const weights = await session.readAdapters();
  const c = run.config;
  const baseModel = run.model === 'tiny' ? `random-tiny-gpt2 (seed ${c.seed}; not on the hub)` : GPT2_MODELS[run.model].repo;
  return exportPeftAdapter(modelConfig(run.model), {
    baseModel, r: c.rank, alpha: c.alpha, rslora: c.rslora, targets: c.targets,
    initLoraWeights: c.init === 'A' ? (c.initDist === 'gaussian' ? 'gaussian' : true) : false,
    notes: { init: `Init[${c.init}]`, init_dist: c.initDist, eta: String(c.eta), lambda: String(c.lambda), steps: String(run.step), seed: String(c.seed) },
  }, weights);
}

export type { Gpt2RunConfig };
