// Result bundles: a run, a comparison or a sweep as one file anyone can open to see the results without
// recomputing them (and reproduce them). The page writes and reads them (download, drop), and so does
// the CLI (--out, `cli show`).
//
//   {"format": "lora-playground-bundle", "version": 1, "kind": "toy-runs" | "gpt2-runs" | "sweep",
//    "createdAt": ISO time, "title": "...", "runs": [record, ...] | "sweep": record}
//
// Records are those of run history (records.ts) with metric columns as {"f32"|"f64": base64}; a GPT-2
// run carries its LoRA tensors as the PEFT adapter folder (adapter_config.json as an object,
// adapter_model.safetensors as base64), so the file also holds a loadable adapter. Large bundles are
// gzipped (a gzip file is recognised by its magic bytes whatever its name). Reading trusts nothing:
// bounded sizes (compressed and decompressed), strict UTF-8, prototype keys refused while parsing, then
// every record through the one validator (validate.ts).
import type { Checked } from '../experiments/schema.ts';
import { adapterSettings } from '../experiments/gpt2/adapterFiles.ts';
import { GPT2_MODELS } from '../models/gpt2.ts';
import { exportPeftAdapter, importPeftAdapter, type AdapterSettings } from '../models/peft.ts';
import { base64ToBytes, bytesToBase64, columnToJson, type Column } from './columns.ts';
import type { Gpt2RunRecord, SweepRecord, ToyRunRecord } from './records.ts';
import { recordLine } from './summary.ts';
import { checkGpt2Run, checkModelConfig, checkSweep, checkToyRun, FORBIDDEN_KEYS, plainObject, RecordError } from './validate.ts';

export const BUNDLE_FORMAT = 'lora-playground-bundle';
export const BUNDLE_VERSION = 1;
/** A bundle file (compressed or not) and its JSON text are refused beyond this size. */
export const MAX_BUNDLE_BYTES = 256 * 2 ** 20;
export const MAX_BUNDLE_RUNS = 64;
/** The page gzips bundles whose JSON is larger than this. */
export const GZIP_ABOVE = 1 * 2 ** 20;

export type BundleContent = { kind: 'toy-runs'; runs: ToyRunRecord[] } | { kind: 'gpt2-runs'; runs: Gpt2RunRecord[] } | { kind: 'sweep'; sweep: SweepRecord };
export type Bundle = BundleContent & { createdAt: string; title: string };

export class BundleError extends Error {}

/** gzip both ways; gunzip refuses output beyond maxBytes (a small file may inflate enormously). */
export interface Gzip {
  gzip(bytes: Uint8Array): Promise<Uint8Array>;
  gunzip(bytes: Uint8Array, maxBytes: number): Promise<Uint8Array>;
}

const tooLarge = (what: string, bytes: number) => new BundleError(`${what} is larger than ${MAX_BUNDLE_BYTES / 2 ** 20} MiB${bytes ? ` (${(bytes / 2 ** 20).toFixed(0)} MiB)` : ''}`);

/** gzip through the Compression Streams API (browsers; Node has it too). */
export const webGzip: Gzip = {
  async gzip(bytes) {
    return new Uint8Array(await new Response(new Blob([bytes as BlobPart]).stream().pipeThrough(new CompressionStream('gzip'))).arrayBuffer());
  },
  async gunzip(bytes, maxBytes) {
    const reader = new Blob([bytes as BlobPart]).stream().pipeThrough(new DecompressionStream('gzip')).getReader();
    const parts: Uint8Array[] = [];
    let total = 0;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        total += value.length;
        if (total > maxBytes) {
          void reader.cancel();
          throw tooLarge('The decompressed bundle', 0);
        }
        parts.push(value);
      }
    } catch (e) {
      if (e instanceof BundleError) throw e;
      throw new BundleError('the file looks gzipped but does not decompress (truncated or damaged)');
    }
    const out = new Uint8Array(total);
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  },
};

// ---- writing ----

/** PEFT's adapter settings of a stored GPT-2 run: those its download from the GPT-2 tab has. */
export function peftSettings(r: Pick<Gpt2RunRecord, 'config' | 'baseModel'>, step: number): AdapterSettings {
  // Only a hub id is a base_model_name_or_path; random weights (and another machine's folder) load nowhere.
  const hubId = Object.values(GPT2_MODELS).some((m) => m.repo === r.baseModel) ? r.baseModel : null;
  return adapterSettings(r.config, { baseModel: hubId, baseLabel: r.baseModel, steps: step });
}

function columnsToJson<T extends Record<string, Column>>(cols: T): Record<keyof T, unknown> {
  return Object.fromEntries(Object.entries(cols).map(([k, c]) => [k, columnToJson(c)])) as Record<keyof T, unknown>;
}

function toyToJson(r: ToyRunRecord): unknown {
  return { ...r, trace: columnsToJson(r.trace), final: r.final && { A: columnToJson(r.final.A), B: columnToJson(r.final.B) } };
}

function gpt2ToJson(r: Gpt2RunRecord): unknown {
  const { weights, ...rest } = r;
  let peft: unknown = null;
  if (weights) {
    const files = exportPeftAdapter(r.modelConfig, peftSettings(r, weights.step), weights.tensors);
    peft = { step: weights.step, 'adapter_config.json': JSON.parse(files['adapter_config.json']), 'adapter_model.safetensors': bytesToBase64(files['adapter_model.safetensors']) };
  }
  return { ...rest, trace: columnsToJson(r.trace), peft };
}

export function bundleToJson(b: Bundle): string {
  const head = { format: BUNDLE_FORMAT, version: BUNDLE_VERSION, kind: b.kind, createdAt: b.createdAt, title: b.title };
  if (b.kind === 'sweep') return JSON.stringify({ ...head, sweep: b.sweep });
  return JSON.stringify({ ...head, runs: b.kind === 'toy-runs' ? b.runs.map(toyToJson) : b.runs.map(gpt2ToJson) });
}

/** The bundle's bytes: JSON, gzipped when larger than `gzipAbove` (and a gzip is given). */
export async function packBundle(b: Bundle, gz: Gzip | null, gzipAbove = GZIP_ABOVE): Promise<{ bytes: Uint8Array; gzipped: boolean }> {
  const json = new TextEncoder().encode(bundleToJson(b));
  if (!gz || json.length <= gzipAbove) return { bytes: json, gzipped: false };
  return { bytes: await gz.gzip(json), gzipped: true };
}

// ---- reading ----

const isGzip = (b: Uint8Array) => b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;

/** A GPT-2 record as written: its PEFT adapter back to LoRA tensors (checked against its model). */
function gpt2FromJson(raw: unknown, path: string): Gpt2RunRecord {
  const o = plainObject(raw, path);
  if (!Object.hasOwn(o, 'peft')) throw new RecordError(`${path} lacks the field "peft"`);
  const { peft, ...rest } = o;
  let weights: unknown = null;
  if (peft !== null) {
    const p = plainObject(peft, `${path}.peft`);
    const model = checkModelConfig(o.modelConfig, `${path}.modelConfig`);
    const bytes = typeof p['adapter_model.safetensors'] === 'string' ? base64ToBytes(p['adapter_model.safetensors']) : null;
    if (!bytes) throw new RecordError(`${path}.peft["adapter_model.safetensors"] must be base64`);
    let imported;
    try {
      imported = importPeftAdapter(model, p['adapter_config.json'], bytes);
    } catch (e) {
      throw new RecordError(`${path}.peft is not a valid PEFT adapter: ${(e as Error).message}`);
    }
    const c = plainObject(o.config, `${path}.config`);
    if (imported.settings.r !== c.rank || imported.settings.alpha !== c.alpha) throw new RecordError(`${path}.peft: r / lora_alpha (${imported.settings.r} / ${imported.settings.alpha}) differ from the run's settings`);
    if (imported.weights.some((w) => w.A.length === 0 && w.B.length === 0)) throw new RecordError(`${path}.peft holds empty tensors`);
    weights = { step: p.step, tensors: imported.weights };
  }
  return checkGpt2Run({ ...rest, weights }, path);
}

/** Parse bundle JSON text; refuses prototype keys while parsing. Never throws. */
export function parseBundleJson(text: string): Checked<Bundle> {
  try {
    if (text.length > MAX_BUNDLE_BYTES) throw tooLarge('The bundle', text.length);
    let json: unknown;
    try {
      json = JSON.parse(text, (key, value) => {
        if (FORBIDDEN_KEYS.has(key)) throw new RecordError(`the file has the forbidden key "${key}"`);
        return value;
      });
    } catch (e) {
      if (e instanceof RecordError) throw e;
      throw new BundleError(`it is not valid JSON (${(e as Error).message.slice(0, 80)}): truncated or not a bundle`);
    }
    const o = plainObject(json, 'the bundle');
    if (o.format !== BUNDLE_FORMAT) throw new BundleError(`it is not a result bundle ("format" must be "${BUNDLE_FORMAT}")`);
    if (typeof o.version !== 'number' || !Number.isInteger(o.version)) throw new BundleError('its "version" is missing');
    if (o.version > BUNDLE_VERSION) throw new BundleError(`it was written by a newer version of the playground (bundle v${o.version}; this page reads up to v${BUNDLE_VERSION})`);
    if (o.version < 1) throw new BundleError(`its version ${o.version} is not one this page reads`);
    const allowed = ['format', 'version', 'kind', 'createdAt', 'title', o.kind === 'sweep' ? 'sweep' : 'runs'];
    for (const k of Object.keys(o)) if (!allowed.includes(k)) throw new RecordError(`the bundle has an unknown field "${k.slice(0, 40)}"`);
    const createdAt = typeof o.createdAt === 'string' && o.createdAt.length <= 40 ? o.createdAt : '';
    const title = typeof o.title === 'string' ? o.title.slice(0, 200) : '';
    if (o.kind === 'sweep') {
      const { resolved: _r, ...sweep } = checkSweep(o.sweep, 'sweep');
      return { ok: true, value: { kind: 'sweep', sweep, createdAt, title } };
    }
    if (o.kind !== 'toy-runs' && o.kind !== 'gpt2-runs') throw new BundleError('its "kind" must be toy-runs, gpt2-runs or sweep');
    if (!Array.isArray(o.runs) || o.runs.length === 0) throw new RecordError('"runs" must be a non-empty list');
    if (o.runs.length > MAX_BUNDLE_RUNS) throw new RecordError(`it has ${o.runs.length} runs (at most ${MAX_BUNDLE_RUNS})`);
    if (o.kind === 'toy-runs') return { ok: true, value: { kind: 'toy-runs', runs: o.runs.map((r, i) => checkToyRun(r, `runs[${i}]`)), createdAt, title } };
    return { ok: true, value: { kind: 'gpt2-runs', runs: o.runs.map((r, i) => gpt2FromJson(r, `runs[${i}]`)), createdAt, title } };
  } catch (e) {
    if (e instanceof BundleError || e instanceof RecordError) return { ok: false, error: e.message };
    return { ok: false, error: 'it could not be read' };
  }
}

/** Read a bundle file's bytes (gzipped or not). Never throws. */
export async function readBundle(bytes: Uint8Array, gz: Gzip): Promise<Checked<Bundle>> {
  try {
    if (bytes.length > MAX_BUNDLE_BYTES) throw tooLarge('The file', bytes.length);
    if (bytes.length === 0) throw new BundleError('the file is empty');
    const json = isGzip(bytes) ? await gz.gunzip(bytes, MAX_BUNDLE_BYTES) : bytes;
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(json);
    } catch {
      throw new BundleError('it is not text (nor gzip): not a bundle');
    }
    return parseBundleJson(text);
  } catch (e) {
    return { ok: false, error: e instanceof BundleError ? e.message : 'it could not be read' };
  }
}

/** What a bundle holds, one line per run (cli show, the page's message after a drop). */
export function bundleSummary(b: Bundle): string[] {
  const head = `${BUNDLE_FORMAT} v${BUNDLE_VERSION}: ${b.kind === 'sweep' ? 'a sweep' : `${b.runs.length} ${b.kind === 'toy-runs' ? 'toy' : 'GPT-2'} run${b.runs.length === 1 ? '' : 's'}`}${b.createdAt ? `, written ${b.createdAt}` : ''}${b.title ? ` — ${b.title}` : ''}`;
  if (b.kind === 'sweep') return [head, `  ${recordLine(b.sweep)}`];
  return [head, ...b.runs.map((r, i) => `  ${i + 1}. ${recordLine(r)}${r.kind === 'toy' ? (r.final ? '; final A and B' : '') : r.weights ? `; PEFT adapter (step ${r.weights.step})` : ''}`)];
}

