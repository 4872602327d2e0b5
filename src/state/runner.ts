// Drives the engine for the page: one GPU context, one ToySession per run, one run training at a time
// (queued runs follow in order; two loops on one device would starve each other's readback). Metrics
// go straight into the run's Trace; React hears about it at most once per animation frame.
// Nothing here imports React; the UI calls these functions and reads the stores.
import { defaultToyConfig, type ToyConfig } from '../experiments/config.ts';
import { ToySession } from '../experiments/session.ts';
import { checkFits, toyMemoryBytes } from '../experiments/toy.ts';
import { createGpuContext, WebGpuUnavailableError, type GpuContext } from '../gpu/device.ts';
import { useConfigStore } from './configStore.ts';
import { resolvePreset, type Preset } from './presets.ts';
import { useGpuStore } from './gpuStore.ts';
import { FINISHED, MAX_RUNS, useRunsStore, type Run, type RunStatus } from './runsStore.ts';
import { useUiStore } from './uiStore.ts';

let ctx: GpuContext | null = null;
const sessions = new Map<number, ToySession>();
/** When each running run last (re)started, for its average rate. */
const runningSince = new Map<number, number>();

const runs = () => useRunsStore.getState();
const findRun = (id: number) => runs().runs.find((r) => r.id === id);
const now = () => performance.now();

/** The run holding the GPU: preparing, running or paused (at most one). */
export function currentRun(list: readonly Run[]): Run | undefined {
  return list.find((r) => r.status === 'preparing' || r.status === 'running' || r.status === 'paused');
}

// ---- serialised commands: a click never interleaves with another's awaits ----
let chain: Promise<unknown> = Promise.resolve();
function serial<T>(fn: () => Promise<T>): Promise<T> {
  const next = chain.then(fn, fn);
  chain = next.catch(() => undefined);
  return next;
}

function notify(kind: 'info' | 'warning' | 'error', text: string): void {
  useUiStore.getState().setNotice({ kind, text });
}

// ---- GPU ----

/** Probe WebGPU once at start (and again after a lost device). Never throws. */
export async function initGpu(gpu: GPU | undefined = globalThis.navigator?.gpu): Promise<void> {
  const store = useGpuStore.getState();
  store.set({ status: 'probing', message: undefined, reason: undefined });
  if (!gpu) {
    const insecure = globalThis.isSecureContext === false;
    store.set({ status: 'unavailable', reason: insecure ? 'insecure' : 'no-api', message: insecure ? 'This page was not opened over https or from localhost, and browsers offer WebGPU only to secure pages.' : 'This browser does not offer WebGPU (navigator.gpu is missing).' });
    return;
  }
  try {
    const c = await createGpuContext(gpu);
    ctx = c;
    store.set({ status: 'ready', adapterName: c.adapterName, isSoftware: c.isSoftware });
    c.lost.then((info) => onDeviceLost(c, info));
    pump();
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    store.set({ status: 'unavailable', reason: e instanceof WebGpuUnavailableError ? 'no-adapter' : 'device-failed', message });
  }
}

function onDeviceLost(lostCtx: GpuContext, info: GPUDeviceLostInfo): void {
  if (ctx !== lostCtx) return;
  ctx = null;
  const why = info.message || info.reason || 'unknown reason';
  for (const [id, s] of sessions) {
    // Listeners go first, so the dead loop's late 'done' cannot overwrite 'lost'.
    s.dispose();
    sessions.delete(id);
    const run = findRun(id);
    if (!run) continue;
    stopClock(id);
    runs().update(id, { status: 'lost', message: `The GPU device was lost at step ${run.trace.lastStep} (${why}). The run stopped; its traces are kept.`, rev: run.rev + 1, step: run.trace.lastStep });
  }
  useGpuStore.getState().set({ status: 'lost', message: why });
  notify('error', `The GPU device was lost (${why}). Runs so far are kept; reconnect to train again.`);
}

/** After a lost device: a fresh context (queued runs start again once it is ready). */
export function reconnectGpu(): Promise<void> {
  return serial(() => initGpu());
}

// ---- resources ----

/** Why this configuration cannot run on this adapter, or null. */
export function resourceError(config: ToyConfig): string | null {
  if (!ctx) return null;
  const fits = checkFits(ctx, config);
  if (fits) return `Too large for this GPU: ${fits}.`;
  const bytes = toyMemoryBytes(config);
  const budget = ctx.isSoftware ? 2 ** 30 : 4 * 2 ** 30;
  if (bytes > budget) return `This run needs about ${(bytes / 2 ** 20).toFixed(0)} MiB of GPU memory; the playground allows ${(budget / 2 ** 20).toFixed(0)} MiB on this ${ctx.isSoftware ? 'software ' : ''}adapter.`;
  return null;
}

/**
 * How many steps between metric readbacks: about 5 a second (the charts redraw at most 4 times a
 * second), from a rough guess of the step rate (the frozen n x n product dominates: ~6 m n^2 flops a
 * step; software adapters do ~2 GFLOP/s, GPUs ~100x that; tiny steps are bounded by per-step overhead).
 * NOTE: reading back more often costs throughput in Chromium: mapAsync takes a GPU-process round trip
 * and the engine keeps 4 readbacks in flight, so the loop stalls when 4 x readEvery steps take less
 * than the round trip (n = 64 on SwiftShader: readEvery 4 ran at 25 steps/s, 8 or more at ~38).
 * Slow runs read back every 2 steps so the charts stay live; fast ones every 64 at most, as the CLI.
 */
export function readEvery(config: ToyConfig, software: boolean): number {
  const m = config.batch === 0 ? config.nTrain : config.batch;
  const flops = 6 * m * config.n * config.n + 1;
  const stepsPerSecond = Math.min(software ? 2e9 / flops : 2e11 / flops, software ? 500 : 5000);
  return Math.min(64, Math.max(2, Math.round(stepsPerSecond / 5)));
}

// ---- frame-rate publication of trace growth ----
const dirty = new Set<number>();
let frameRequested = false;

function markDirty(id: number): void {
  dirty.add(id);
  if (frameRequested) return;
  frameRequested = true;
  const raf = globalThis.requestAnimationFrame ?? ((f: FrameRequestCallback) => setTimeout(() => f(now()), 16));
  raf(publish);
}

function publish(): void {
  frameRequested = false;
  const ids = [...dirty];
  dirty.clear();
  useRunsStore.setState({
    runs: runs().runs.map((r) => {
      if (!ids.includes(r.id)) return r;
      const s = sessions.get(r.id);
      return { ...r, rev: r.rev + 1, step: r.trace.lastStep, stepsPerSecond: s ? s.stepsPerSecond : r.stepsPerSecond };
    }),
  });
}

function startClock(id: number): void {
  runningSince.set(id, now());
}

function stopClock(id: number): void {
  const t0 = runningSince.get(id);
  if (t0 === undefined) return;
  runningSince.delete(id);
  const run = findRun(id);
  if (run) runs().update(id, { trainMs: run.trainMs + (now() - t0) });
}

// ---- sessions ----

async function prepare(id: number): Promise<ToySession | null> {
  const run = findRun(id);
  if (!run || !ctx) return null;
  const tooBig = resourceError(run.config);
  if (tooBig) {
    runs().update(id, { status: 'error', message: tooBig });
    return null;
  }
  runs().update(id, { status: 'preparing', message: 'Drawing the weights and the data…' });
  // Let the page paint "preparing" before the synchronous tensor draw.
  await new Promise((r) => setTimeout(r, 0));
  try {
    const session = await ToySession.create(ctx, run.config, { readEvery: readEvery(run.config, ctx.isSoftware) });
    if (!findRun(id)) {
      session.dispose(); // deleted while preparing
      return null;
    }
    sessions.set(id, session);
    session.subscribe({
      onMetrics: (rows) => {
        const r = findRun(id);
        if (!r) return;
        r.trace.append(rows);
        markDirty(id);
      },
      onStatus: (e) => {
        if (!findRun(id)) return;
        if (e.status === 'diverged') runs().update(id, { status: 'diverged', divergedAt: e.divergedAt, message: `Diverged at step ${e.divergedAt}: the loss became non-finite or exceeded 10^6 times its first value.` });
        else if (e.status === 'error') runs().update(id, { status: 'error', message: e.message ?? 'training failed' });
        else if (e.status === 'running' || e.status === 'paused' || e.status === 'done') runs().update(id, { status: e.status, message: undefined });
      },
    });
    runs().update(id, { status: 'paused', message: undefined });
    return session;
  } catch (e) {
    runs().update(id, { status: 'error', message: e instanceof Error ? e.message : String(e) });
    return null;
  }
}

/** After a run's loop stops: publish its last rows, free its GPU memory when it has ended. */
function settle(id: number, session: ToySession): void {
  stopClock(id);
  publish();
  const run = findRun(id);
  if (!run || sessions.get(id) !== session) return;
  const st = session.state;
  if (st.divergedAt !== undefined && run.status !== 'diverged') {
    runs().update(id, { status: 'diverged', divergedAt: st.divergedAt, message: `Diverged at step ${st.divergedAt}.` });
  }
  if (FINISHED.has(findRun(id)!.status)) {
    session.dispose();
    sessions.delete(id);
  }
}

function launch(id: number, session: ToySession): void {
  startClock(id);
  session.start().then(() => {
    settle(id, session);
    pump();
  });
}

/** Start the next queued run when nothing holds the GPU. */
function pump(): void {
  void serial(async () => {
    if (!ctx || currentRun(runs().runs)) return;
    const next = runs().runs.find((r) => r.status === 'queued');
    if (!next) return;
    const session = await prepare(next.id);
    if (session) launch(next.id, session);
    else pump();
  });
}

function newRuns(configs: ToyConfig[]): number[] | null {
  const room = MAX_RUNS - runs().runs.length;
  if (configs.length > room) {
    notify('warning', `At most ${MAX_RUNS} runs are kept: delete some before starting more.`);
    return null;
  }
  for (const c of configs) {
    const err = resourceError(c);
    if (err) {
      notify('error', err);
      return null;
    }
  }
  return runs().addRuns(configs.map((config) => ({ config })));
}

/** The form's configuration, or null (with the form showing why) when it is not valid. */
function formConfig(): ToyConfig | null {
  const { valid, config } = useConfigStore.getState();
  if (!valid) {
    notify('warning', 'Some settings are not valid: fix the highlighted fields first.');
    return null;
  }
  return config;
}

// ---- commands (the run bar's buttons) ----

/** Run: resume the paused run, or continue the queue, or start a new run from the form. */
export function run(): Promise<void> {
  return serial(async () => {
    if (!ctx) return;
    const cur = currentRun(runs().runs);
    if (cur) {
      const s = sessions.get(cur.id);
      if (cur.status === 'paused' && s) launch(cur.id, s);
      return;
    }
    if (!runs().runs.some((r) => r.status === 'queued')) {
      const config = formConfig();
      if (!config || !newRuns([config])) return;
    }
    pump();
  });
}

export function pause(): Promise<void> {
  return serial(async () => {
    const cur = currentRun(runs().runs);
    if (cur?.status === 'running') await sessions.get(cur.id)?.pause();
  });
}

/** One training step with its metrics shown; starts a run (paused after one step) when none is current. */
export function stepOnce(): Promise<void> {
  return serial(async () => {
    if (!ctx) return;
    let cur = currentRun(runs().runs);
    if (cur?.status === 'running' || cur?.status === 'preparing') return;
    if (!cur) {
      let next = runs().runs.find((r) => r.status === 'queued');
      if (!next) {
        const config = formConfig();
        const ids = config && newRuns([config]);
        if (!ids) return;
        next = findRun(ids[0])!;
      }
      if (!(await prepare(next.id))) return;
      cur = findRun(next.id);
    }
    const s = cur && sessions.get(cur.id);
    if (!cur || !s) return;
    startClock(cur.id);
    await s.stepOnce();
    settle(cur.id, s);
  });
}

/** Discard the run in progress and anything queued; kept (finished) runs stay. */
export function reset(): Promise<void> {
  return serial(async () => {
    for (const r of runs().runs) {
      if (FINISHED.has(r.status)) continue;
      await dropSession(r.id);
      runs().remove(r.id);
    }
  });
}

/** Init[A] and Init[B] from the same seed: identical frozen weights, data and teacher (named streams). */
export function compareInits(): Promise<void> {
  return serial(async () => {
    const config = formConfig();
    if (!config) return;
    if (newRuns([{ ...config, init: 'A' }, { ...config, init: 'B' }])) pump();
  });
}

export function deleteRun(id: number): Promise<void> {
  return serial(async () => {
    await dropSession(id);
    runs().remove(id);
    pump();
  });
}

/** Stop and forget every run, then queue these (a share link being opened). */
export function replaceRuns(items: Array<{ config: ToyConfig; hidden?: boolean }>): Promise<void> {
  return serial(async () => {
    for (const r of runs().runs) await dropSession(r.id);
    runs().clear();
    runs().addRuns(items.slice(0, MAX_RUNS));
    pump();
  });
}

async function dropSession(id: number): Promise<void> {
  const s = sessions.get(id);
  if (!s) return;
  sessions.delete(id);
  await s.pause(); // NOTE: let the loop finish its step before the buffers are destroyed
  stopClock(id);
  s.dispose();
}

/** Set the form to a preset and queue its runs (scaled down on a software adapter, with a note). */
export function loadPreset(p: Preset): Promise<void> {
  return serial(async () => {
    const software = ctx?.isSoftware ?? useGpuStore.getState().isSoftware;
    const r = resolvePreset(p, software);
    useConfigStore.getState().setConfig(r.config);
    if (r.scaled) notify('info', `“${p.title}” is scaled to this software adapter (${r.scaled}) so that it trains in about a minute; on a GPU it runs as in the papers.`);
    if (newRuns(r.runs)) pump();
  });
}

/** Load a run's settings into the form. */
export function loadSettings(id: number): void {
  const run = findRun(id);
  if (run) useConfigStore.getState().setConfig(run.config);
}

export function resetSettings(): void {
  useConfigStore.getState().setConfig(defaultToyConfig());
}

export const STATUS_TEXT: Record<RunStatus, string> = {
  queued: 'queued',
  preparing: 'preparing',
  running: 'running',
  paused: 'paused',
  done: 'done',
  diverged: 'diverged',
  error: 'failed',
  lost: 'device lost',
};
