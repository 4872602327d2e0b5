// Drives the engine for the Playground. Runs queued together (a compare, a preset, a shared link: one
// group) form a job and train together: the runs that share every setting but the per-run ones (init,
// eta, lambda, ...) in one batched session (sweep/batchTrainer.ts: the same dispatches, so both curves
// grow from the first second), any others beside it on the page's one device, turn by turn (pageGpu.ts).
// Every run of rank <= 4 (the default) trains in the batched engine, alone or not, with its K loops split
// as for one run: a run's trace depends on its settings only, never on the runs beside it, so the same
// link gives the same trace. Larger ranks train in the per-run engine (toy/trainer.ts).
// One job at a time answers the run bar's Pause / Step / Resume; the next group starts when it ends.
// Metrics go straight into each run's Trace; React hears about it at most once per animation frame.
// Nothing here imports React; the UI calls these functions and reads the stores.
import { defaultToyConfig, type ToyConfig } from '../experiments/toy/config.ts';
import type { StepMetrics } from '../experiments/toy/metrics.ts';
import { checkFits } from '../experiments/toy/plan.ts';
import { defaultMemoryBudget } from '../gpu/budget.ts';
import { ToySession } from '../experiments/toy/session.ts';
import { batchKey, batchSession, MAX_BATCH_RANK, ToyBatchTrainer, type BatchStepRow, type RunStepMetrics } from '../experiments/sweep/batchTrainer.ts';
import type { RunSession } from '../experiments/run/session.ts';
import type { RunStatus, StatusEvent } from '../experiments/run/status.ts';
import { useConfigStore } from './configStore.ts';
import { trainingRefusal } from './gpuCheckStore.ts';
import { useGpuStore } from './gpuStore.ts';
import { recordDiscard, recordEnd, recordRows, recordStart, withStoredRuns } from './history/playground.ts';
import type { Workspace } from './history/workspace.ts';
import { currentGpu, onGpuReady, pageHost } from './pageGpu.ts';
import { resolvePreset, type Preset } from './presets.ts';
import { FINISHED, MAX_RUNS, useRunsStore, type NewRun, type Run } from './runsStore.ts';
import { useUiStore } from './uiStore.ts';

export { initGpu, reconnectGpu } from './pageGpu.ts';
export { STATUS_TEXT } from '../experiments/run/status.ts';

/** Sessions of the job in progress: one batched session, or one per run, or both (parts). */
interface Part {
  session: RunSession<StepMetrics> | RunSession<BatchStepRow>;
  /** The runs it trains, in its order (a batch's run b is runIds[b]). */
  runIds: number[];
}

let job: { parts: Part[]; since: number | null } | null = null;

const runs = () => useRunsStore.getState();
const findRun = (id: number) => runs().runs.find((r) => r.id === id);
const now = () => performance.now();
const ACTIVE: ReadonlySet<RunStatus> = new Set(['preparing', 'running', 'paused', 'ready']);

/** The runs of the job in progress (preparing, running or paused). */
export function currentRuns(list: readonly Run[]): Run[] {
  return list.filter((r) => ACTIVE.has(r.status));
}

/** The first run of the job in progress: what the run bar shows. */
export function currentRun(list: readonly Run[]): Run | undefined {
  return currentRuns(list)[0];
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

onGpuReady(() => pump());

// ---- resources ----

/** Why this configuration cannot run on this adapter (too large, or a kernel it needs failed the self-check), or null. */
export function resourceError(config: ToyConfig): string | null {
  const refused = trainingRefusal('playground');
  if (refused) return refused;
  const ctx = currentGpu();
  if (!ctx) return null;
  const fits = checkFits(ctx, config, defaultMemoryBudget(ctx));
  return fits && `Too large for this ${ctx.isSoftware ? 'software ' : ''}adapter: ${fits}.`;
}

/**
 * How many steps between metric readbacks: about 5 a second (the charts redraw at most 4 times a
 * second), from a rough guess of the step rate (software adapters do ~2 GFLOP/s, GPUs ~100x that; tiny
 * steps are bounded by per-step overhead).
 * NOTE: reading back more often costs throughput in Chromium: mapAsync takes a GPU-process round trip
 * and the engine keeps a few readbacks in flight, so the loop stalls when they cover less than the round
 * trip (n = 64 on SwiftShader: readEvery 4 ran at 25 steps/s, 8 or more at ~38).
 * Slow runs read back every 2 steps so the charts stay live; fast ones every 64 at most, as the CLI.
 */
export function readEvery(flopsPerStep: number, software: boolean): number {
  const stepsPerSecond = Math.min(software ? 2e9 / (flopsPerStep + 1) : 2e11 / (flopsPerStep + 1), software ? 500 : 5000);
  return Math.min(64, Math.max(2, Math.round(stepsPerSecond / 5)));
}

/** Work of one step: the frozen n x n product dominates a single run (~6 m n^2). */
const singleFlops = (c: ToyConfig) => 6 * (c.batch === 0 ? c.nTrain : c.batch) * c.n * c.n;
/** A batch computes the frozen product once at setup; a step is ~R m n (6 r + 10). */
const batchFlops = (c: ToyConfig, runsN: number) => runsN * (c.batch === 0 ? c.nTrain : c.batch) * c.n * (6 * MAX_BATCH_RANK + 10);

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
  const ids = new Set(dirty);
  dirty.clear();
  const rates = new Map<number, number>();
  for (const p of job?.parts ?? []) for (const id of p.runIds) rates.set(id, p.session.stepsPerSecond);
  useRunsStore.setState({
    runs: runs().runs.map((r) => (ids.has(r.id) ? { ...r, rev: r.rev + 1, step: r.trace.lastStep, stepsPerSecond: rates.get(r.id) ?? r.stepsPerSecond } : r)),
  });
}

/** Training time of the job's runs (paused time excluded), for their average rate. */
function startClock(): void {
  if (job && job.since === null) job.since = now();
}

function stopClock(): void {
  if (!job || job.since === null) return;
  const dt = now() - job.since;
  job.since = null;
  for (const p of job.parts) for (const id of p.runIds) {
    const run = findRun(id);
    if (run) runs().update(id, { trainMs: run.trainMs + dt });
  }
}

// ---- building a job ----

/** The status events of a session, applied to one of its runs (a run that diverged on its own keeps that). */
function applyStatus(id: number, e: StatusEvent): void {
  const run = findRun(id);
  if (!run || run.status === 'diverged') return;
  if (e.status === 'diverged') runs().update(id, { status: 'diverged', divergedAt: e.divergedAt, message: `Diverged at step ${e.divergedAt}: the loss became non-finite or exceeded 10^6 times its first value.` });
  else if (e.status === 'error' || e.status === 'lost') runs().update(id, { status: e.status, message: e.message ?? 'training failed', step: run.trace.lastStep });
  else if (e.status === 'running' || e.status === 'paused' || e.status === 'done') runs().update(id, { status: e.status, message: undefined });
}

/** Rows of a batch to each run's trace; a run stops at its own divergence step (its later rows are dropped). */
function receiveBatch(runIds: number[], rows: BatchStepRow[]): void {
  for (const row of rows) {
    row.runs.forEach((r: RunStepMetrics, b) => {
      const id = runIds[b];
      const run = findRun(id);
      if (!run || run.status === 'diverged') return;
      run.trace.append([r]);
      markDirty(id);
      recordRows(id);
      if (!r.alive) applyStatus(id, { status: 'diverged', step: r.step, divergedAt: r.step });
    });
  }
}

/** Sessions for a group of queued runs: batchable ones together, the rest one each. */
async function prepareJob(group: Run[]): Promise<Part[]> {
  const ctx = await pageHost.context();
  const parts: Part[] = [];
  const byKey = new Map<string, Run[]>();
  for (const r of group) {
    const key = r.config.rank <= MAX_BATCH_RANK ? batchKey(r.config) : `single:${r.id}`;
    byKey.set(key, [...(byKey.get(key) ?? []), r]);
  }
  for (const members of byKey.values()) {
    const ids = members.map((r) => r.id);
    try {
      if (members[0].config.rank <= MAX_BATCH_RANK) {
        const c = members[0].config;
        const runsOf = members.map((r) => ({ init: r.config.init, initDist: r.config.initDist, eta: r.config.eta, lambda: r.config.lambda, wd: r.config.wd }));
        const trainer = await ToyBatchTrainer.create(ctx, c, runsOf, { readEvery: readEvery(batchFlops(c, members.length), ctx.isSoftware), splitsPerRun: true });
        const session = batchSession(trainer, pageHost);
        session.subscribe({ onMetrics: (rows) => receiveBatch(ids, rows), onStatus: (e) => ids.forEach((id) => applyStatus(id, e)) });
        parts.push({ session, runIds: ids });
      } else {
        const c = members[0].config;
        const session = await ToySession.create(pageHost, c, { readEvery: readEvery(singleFlops(c), ctx.isSoftware) });
        const id = ids[0];
        session.subscribe({
          onMetrics: (rows) => {
            const r = findRun(id);
            if (!r) return;
            r.trace.append(rows);
            markDirty(id);
            recordRows(id);
          },
          onStatus: (e) => applyStatus(id, e),
        });
        parts.push({ session, runIds: ids });
      }
      for (const id of ids) {
        runs().update(id, { status: 'paused', message: undefined });
        recordStart(id, ctx.adapterName);
      }
    } catch (e) {
      for (const id of ids) runs().update(id, { status: 'error', message: e instanceof Error ? e.message : String(e) });
    }
  }
  return parts;
}

/** Start the next queued group when no job holds the run bar. */
function pump(): void {
  void serial(async () => {
    if (job || !currentGpu() || currentRuns(runs().runs).length) return;
    if (!(await beginNextJob())) return;
    launch();
  });
}

/** Prepares the next queued group (or nothing); true when a job is ready. */
async function beginNextJob(): Promise<boolean> {
  const next = runs().runs.find((r) => r.status === 'queued');
  if (!next) return false;
  const group = runs().runs.filter((r) => r.status === 'queued' && r.group === next.group);
  for (const r of group) {
    const tooBig = resourceError(r.config);
    runs().update(r.id, tooBig ? { status: 'error', message: tooBig } : { status: 'preparing', message: 'Drawing the weights and the data…' });
  }
  // Let the page paint "preparing" before the synchronous tensor draws.
  await new Promise((r) => setTimeout(r, 0));
  const live = group.filter((r) => findRun(r.id)?.status === 'preparing');
  let parts: Part[];
  try {
    parts = live.length ? await prepareJob(live) : [];
  } catch (e) {
    for (const r of live) runs().update(r.id, { status: 'error', message: e instanceof Error ? e.message : String(e) });
    parts = [];
  }
  // Runs deleted while preparing: their sessions go at once.
  for (const p of parts) if (p.runIds.every((id) => !findRun(id))) void p.session.dispose();
  parts = parts.filter((p) => p.runIds.some((id) => findRun(id)));
  if (!parts.length) {
    setTimeout(pump, 0);
    return false;
  }
  job = { parts, since: null };
  return true;
}

/** Train every part of the job; settle when they have all stopped. */
function launch(): void {
  const current = job;
  if (!current) return;
  startClock();
  void Promise.all(current.parts.map((p) => p.session.start())).then(() => settle(current));
}

/** After the job's loops stop: publish the last rows; free what has ended; the next group starts when all has. */
function settle(which: NonNullable<typeof job>): void {
  if (job !== which) return;
  stopClock();
  publish();
  for (const p of which.parts) {
    if (FINISHED.has(p.session.state.status)) void p.session.dispose(() => endRecords(p));
  }
  which.parts = which.parts.filter((p) => !FINISHED.has(p.session.state.status));
  if (!which.parts.length) {
    job = null;
    pump();
  }
}

/** Final adapters of a part's runs (one readback once it has stopped), then their history records end. */
async function endRecords(part: Part): Promise<void> {
  let finals: Array<{ A: Float32Array; B: Float32Array } | null> = part.runIds.map(() => null);
  if (part.session.state.status !== 'lost') {
    try {
      const t = part.session.trainer;
      finals = t instanceof ToyBatchTrainer ? await t.readAdapters() : [await (t as ToySession['trainer']).readAdapter()];
    } catch {
      /* the device went away: the record ends without tensors */
    }
  }
  part.runIds.forEach((id, i) => recordEnd(id, finals[i]));
}

function newRuns(configs: ToyConfig[], extra: Partial<NewRun> = {}): number[] | null {
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
  return runs().addRuns(configs.map((config) => ({ ...extra, config })));
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

/** Run: resume the paused job, or continue the queue, or start a new run from the form. */
export function run(): Promise<void> {
  return serial(async () => {
    if (!currentGpu()) return;
    if (job) {
      if (job.parts.every((p) => p.session.state.status !== 'running')) launch();
      return;
    }
    if (!runs().runs.some((r) => r.status === 'queued')) {
      const config = formConfig();
      if (!config || !newRuns([config])) return;
    }
    if (await beginNextJob()) launch();
  });
}

export function pause(): Promise<void> {
  return serial(async () => {
    if (job) await Promise.all(job.parts.map((p) => p.session.pause()));
  });
}

/** One training step of every run of the job, shown; starts a job (paused after one step) when none is current. */
export function stepOnce(): Promise<void> {
  return serial(async () => {
    if (!currentGpu()) return;
    if (job?.parts.some((p) => p.session.state.status === 'running')) return;
    if (!job) {
      if (!runs().runs.some((r) => r.status === 'queued')) {
        const config = formConfig();
        if (!config || !newRuns([config])) return;
      }
      if (!(await beginNextJob())) return;
    }
    const current = job!;
    startClock();
    await Promise.all(current.parts.map((p) => p.session.stepOnce()));
    settle(current);
  });
}

/** Discard the job in progress and anything queued; kept (finished) runs stay. */
export function reset(): Promise<void> {
  return serial(async () => {
    await dropJob();
    for (const r of runs().runs) {
      if (FINISHED.has(r.status)) continue;
      runs().remove(r.id);
      recordDiscard(r.id);
    }
  });
}

/** Init[A] and Init[B] from the same seed (identical frozen weights, data and teacher), trained together. */
export function compareInits(): Promise<void> {
  return serial(async () => {
    const config = formConfig();
    if (!config) return;
    if (newRuns([{ ...config, init: 'A' }, { ...config, init: 'B' }])) pump();
  });
}

export function deleteRun(id: number): Promise<void> {
  return serial(async () => {
    const part = job?.parts.find((p) => p.runIds.includes(id));
    // A finished run stays in History (its record ends now if its batch still trains); an unfinished one goes.
    if (FINISHED.has(findRun(id)?.status ?? 'done')) recordEnd(id, findRun(id)?.final ?? null);
    else recordDiscard(id);
    runs().remove(id);
    if (part && part.runIds.every((r) => !findRun(r))) {
      // The last run of its session: stop it and free its memory (a batch keeps training its other runs).
      job!.parts = job!.parts.filter((p) => p !== part);
      await part.session.dispose();
      if (!job!.parts.length) job = null;
    }
    pump();
  });
}

/**
 * Queue the runs of an opened link as one group (they train together). A stored run stands in for a
 * link's run when it has the same settings and was computed by this engine version on this adapter (or
 * when this tab showed it before a reload): it is shown at once, nothing is recomputed. Runs already in
 * the list stay: opening a link never deletes anyone's results. Resolves to the number of runs restored.
 */
export function openRuns(items: Array<{ config: ToyConfig; hidden?: boolean }>, workspace: Workspace | null = null): Promise<number> {
  return serial(async () => {
    if (!items.length) return 0;
    const room = MAX_RUNS - runs().runs.length;
    if (items.length > room) {
      notify('warning', `The link's ${items.length} runs do not fit beside the ${runs().runs.length} kept ones (at most ${MAX_RUNS}): delete some runs, then open the link again.`);
      return 0;
    }
    const adapter = await pageHost.context().then((c) => c.adapterName, () => null);
    const resolved = await withStoredRuns(items.map((i) => ({ ...i, fromLink: true })), adapter, workspace);
    const restored = resolved.filter((r) => r.restored).length;
    if (restored) runs().addRuns(resolved.filter((r) => r.restored));
    const queued = resolved.filter((r) => !r.restored);
    if (queued.length) runs().addRuns(queued);
    pump();
    return restored;
  });
}

/** Show stored runs (History, a bundle, a reload) in the list as they are; nothing is trained. */
export function showStoredRuns(items: NewRun[]): Promise<boolean> {
  return serial(async () => {
    if (!items.length) return true;
    if (items.length > MAX_RUNS - runs().runs.length) {
      notify('warning', `At most ${MAX_RUNS} runs are kept: remove some from the list before showing ${items.length === 1 ? 'another' : `${items.length} more`}.`);
      return false;
    }
    runs().addRuns(items);
    return true;
  });
}

/** Train a finished run's settings again, beside it; when it finishes, its trace is compared with the stored one. */
export function reproduceRun(id: number): Promise<void> {
  return serial(async () => {
    const run = findRun(id);
    if (!run || !FINISHED.has(run.status) || run.trace.length === 0) return;
    if (newRuns([run.config], { reproduces: { runId: run.id, recordId: run.record?.id, trace: run.trace.columns() } })) pump();
  });
}

async function dropJob(): Promise<void> {
  const current = job;
  if (!current) return;
  stopClock();
  job = null;
  await Promise.all(current.parts.map((p) => p.session.dispose())); // each loop finishes its step before its buffers go
}

/** Set the form to a preset and queue its runs (scaled down on a software adapter, with a note). */
export function loadPreset(p: Preset): Promise<void> {
  return serial(async () => {
    const software = currentGpu()?.isSoftware ?? useGpuStore.getState().isSoftware;
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
