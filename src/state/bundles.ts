// Result bundles on the page: the Playground's shown runs, the Experiments tab's sweep or the GPT-2 tab's
// runs as one file (results/bundle.ts: JSON, gzipped by CompressionStream when large), and a bundle file
// dropped or chosen, opened in its tab without recomputing anything (and kept in the history). A file
// that is not a valid bundle changes nothing: the message beside the drop zone says why.
import { ENGINE_VERSION } from '../experiments/run/engineVersion.ts';
import { packBundle, readBundle, webGzip, type Bundle } from '../results/bundle.ts';
import { gpt2Columns, newRecordId, RECORD_VERSION, type Gpt2RunRecord, type SweepRecord, type ToyRunRecord } from '../results/records.ts';
import { describeRuns } from './describe.ts';
import { adapterSnapshot, baseModelOf } from './gpt2Runner.ts';
import { modelConfig, useGpt2Store, type Gpt2Run } from './gpt2Store.ts';
import { showGpt2Records } from './history/gpt2.ts';
import { historyDb, importRecords, readRecord } from './history/history.ts';
import { useHistoryStore } from './history/historyStore.ts';
import { showSweepRecord } from './history/sweeps.ts';
import { currentGpu } from './pageGpu.ts';
import { showStoredRuns } from './runner.ts';
import { FINISHED, type Run } from './runsStore.ts';
import { useSweepStore } from './sweepStore.ts';
import { useUiStore } from './uiStore.ts';

const adapterNow = () => currentGpu()?.adapterName ?? 'unknown adapter';

/** A stored record of a run on the page (its history record's identity when it has one). */
export function toyRecordOf(run: Run): ToyRunRecord {
  const finished = FINISHED.has(run.status);
  const record: ToyRunRecord = {
    v: RECORD_VERSION, kind: 'toy', id: run.record?.id ?? newRecordId(), createdAt: run.record?.createdAt ?? Date.now(), engineVersion: run.record?.engineVersion ?? ENGINE_VERSION,
    adapter: run.record?.adapter ?? adapterNow(), status: finished ? (run.status as ToyRunRecord['status']) : 'interrupted', config: { ...run.config },
    divergedAt: run.divergedAt ?? null, trainMs: run.trainMs, trace: run.trace.columns(), final: run.final ?? null,
  };
  const message = finished ? run.message : `Exported at step ${run.step} of ${run.config.steps}, while it was ${run.status}.`;
  if (message) record.message = message.slice(0, 2000);
  if (run.verdict && run.reproduces?.recordId) record.reproduction = { of: run.reproduces.recordId, verdict: run.verdict };
  return record;
}

export function toyBundle(runs: readonly Run[]): Bundle {
  return { kind: 'toy-runs', runs: runs.map(toyRecordOf), createdAt: new Date().toISOString(), title: describeRuns(runs.map((r) => r.config)).title };
}

/** The sweep on the Experiments tab (finished or cancelled), or null. */
export async function sweepBundle(): Promise<Bundle | null> {
  const s = useSweepStore.getState();
  const result = s.result;
  if (!result) return null;
  const entry = useHistoryStore.getState().entries.find((l) => l.entry.id === s.recordId)?.entry;
  const sweep: SweepRecord = {
    v: RECORD_VERSION, kind: 'sweep', id: s.recordId ?? newRecordId(), createdAt: entry?.createdAt ?? Date.now(), engineVersion: entry?.engineVersion ?? ENGINE_VERSION,
    adapter: entry?.adapter ?? result.timing?.adapter ?? adapterNow(), status: s.phase === 'done' ? 'done' : 'cancelled', spec: result.spec,
    runs: result.runs.filter((r) => r.status !== 'queued'), timing: result.timing ?? null,
  };
  if (s.form.preset !== 'custom') sweep.preset = s.form.preset;
  return { kind: 'sweep', sweep, createdAt: new Date().toISOString(), title: `sweep ${result.kind}` };
}

/** A GPT-2 run as a record: its stored record when it is finished in the history, else built from the tab. */
async function gpt2RecordOf(run: Gpt2Run, group: string): Promise<Gpt2RunRecord> {
  if (run.recordId && (await historyDb()) && FINISHED.has(run.status)) {
    try {
      const r = await readRecord(run.recordId);
      if (r.kind === 'gpt2' && r.status !== 'running') return r;
    } catch {
      /* build it from the tab instead */
    }
  }
  const s = useGpt2Store.getState();
  const copy = adapterSnapshot(run.id);
  return {
    v: RECORD_VERSION, kind: 'gpt2', id: run.recordId ?? newRecordId(), createdAt: Date.now(), engineVersion: ENGINE_VERSION, adapter: adapterNow(),
    status: FINISHED.has(run.status) ? (run.status as Gpt2RunRecord['status']) : 'interrupted', model: run.model, modelConfig: modelConfig(run.model), baseModel: baseModelOf(run),
    text: s.textSource, config: run.config, group, divergedAt: run.status === 'diverged' ? run.step : null, adapters: run.adapters, trace: gpt2Columns(run.rows),
    weights: copy && { step: copy.step, tensors: copy.weights },
    generations: s.generations.filter((g) => g.runId === run.id && !g.pending).map((g) => ({ step: g.step, mode: g.mode, prompt: g.prompt, text: g.text })),
  };
}

export async function gpt2Bundle(): Promise<Bundle | null> {
  const runs = useGpt2Store.getState().runs.filter((r) => r.rows.length > 0);
  if (!runs.length) return null;
  const group = newRecordId();
  return { kind: 'gpt2-runs', runs: await Promise.all(runs.map((r) => gpt2RecordOf(r, group))), createdAt: new Date().toISOString(), title: runs.map((r) => `Init[${r.init}]`).join(' vs ') };
}

/** The file of a bundle: gzipped (and named .json.gz) when large. */
export async function bundleFile(b: Bundle): Promise<{ blob: Blob; name: string }> {
  const { bytes, gzipped } = await packBundle(b, webGzip);
  const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-');
  return { blob: new Blob([bytes as BlobPart], { type: gzipped ? 'application/gzip' : 'application/json' }), name: `lora-playground-${b.kind}-${stamp}.bundle.json${gzipped ? '.gz' : ''}` };
}

// ---- opening a bundle file ----

const say = (kind: 'info' | 'error', text: string) => useHistoryStore.getState().set({ dropMessage: { kind, text } });

/** Open a dropped or chosen file: a valid bundle is shown in its tab (and stored); anything else only gets a message. */
export async function openBundleFile(file: File): Promise<void> {
  const name = file.name.replace(/[^\x20-\x7e]/g, '?').slice(0, 80);
  let bytes: Uint8Array;
  try {
    if (file.size > 256 * 2 ** 20) return say('error', `${name} was not opened: it is larger than 256 MiB, too large for a bundle.`);
    bytes = new Uint8Array(await file.arrayBuffer());
  } catch {
    return say('error', `${name} could not be read.`);
  }
  const r = await readBundle(bytes, webGzip);
  if (!r.ok) return say('error', `${name} was not opened: ${r.error}.`);
  const b = r.value;
  const records = b.kind === 'sweep' ? [b.sweep] : b.runs;
  let stored = '';
  try {
    if (await historyDb()) {
      await importRecords(records);
      stored = ' and kept in History';
    }
  } catch (e) {
    stored = ` (not kept in History: ${(e as Error).message})`;
  }
  const ui = useUiStore.getState();
  const asStatus = (s: string) => (s === 'running' ? 'interrupted' : s) as Run['status'];
  if (b.kind === 'toy-runs') {
    const shown = await showStoredRuns(b.runs.map((record) => ({ config: record.config, restored: { record, status: asStatus(record.status) } })));
    if (!shown) return say('error', `${name} holds ${b.runs.length} runs: remove some runs from the Playground first.`);
    ui.setTab('playground');
  } else if (b.kind === 'sweep') {
    const st = useSweepStore.getState().phase;
    if (st === 'running' || st === 'cancelling') return say('error', `${name} holds a sweep: wait for the running sweep to end (or cancel it) first.`);
    showSweepRecord(b.sweep, `From ${name}:`);
    ui.setTab('experiments');
  } else {
    if (!showGpt2Records(b.runs.map((record) => ({ record, status: asStatus(record.status) })))) return say('error', `${name} holds GPT-2 runs: stop the GPT-2 training first.`);
    ui.setTab('gpt2');
  }
  say('info', `Opened ${name}: ${b.kind === 'sweep' ? 'a sweep' : `${b.runs.length} ${b.kind === 'toy-runs' ? 'toy' : 'GPT-2'} run${b.runs.length === 1 ? '' : 's'}`}, shown without recomputing${stored}.`);
}
