// Run history in the browser: IndexedDB through `idb`. Three stores:
//
//   records  one entry per run or sweep: the record (records.ts) without its bulk, plus bookkeeping
//            (which tab writes it, how many rows and parts are stored, bytes, final loss): what the
//            History panel lists without reading any trace
//   parts    the trace in the order it was written, [id, seq] -> columns of the rows since the last write
//            (a sweep's part: the summaries of the runs finished since)
//   tensors  final adapters (toy A and B; GPT-2 LoRA tensors as of the last CPU copy), one entry per run
//
// A run is written as it trains: every write is one transaction that adds a part and updates the entry,
// so the entry's row count always equals what the parts hold, and a run's status becomes final only in
// the transaction that stores its last rows and tensors: a run cut short (crash, full storage) is read
// back as interrupted, never as complete. Entries are keyed by random ids, and a tab writes only its
// own, so two tabs never touch each other's records; a write whose entry was deleted elsewhere (History in
// another tab) is dropped. Everything read back goes through the record validator (results/validate.ts).
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { RunSummary } from '../../experiments/sweep/aggregate.ts';
import { concatColumns, type Column } from '../../results/columns.ts';
import { GPT2_TRACE_KEYS, TOY_DENSE, type Gpt2RunRecord, type Gpt2TraceColumns, type ResultRecord, type SweepRecord, type ToyRunRecord, type ToyTraceColumns } from '../../results/records.ts';
import { checkGpt2Run, checkSweep, checkToyRun, RecordError } from '../../results/validate.ts';

export const DB_NAME = 'lora-playground-history';
const DB_VERSION = 1;

/** What the history keeps about an entry beside the record itself. */
export interface Bookkeeping {
  /** The tab that writes it (its id; see tabs.ts). */
  owner: string;
  updatedAt: number;
  /** Rows (sweep: run summaries) and parts stored so far. */
  rows: number;
  parts: number;
  /** Bytes of its parts and tensors (their typed arrays; JSON length for summaries). */
  bytes: number;
  finalLoss: number | null;
}

export type ToyEntry = Omit<ToyRunRecord, 'trace' | 'final'> & Bookkeeping;
export type Gpt2Entry = Omit<Gpt2RunRecord, 'trace' | 'weights'> & Bookkeeping;
export type SweepEntry = Omit<SweepRecord, 'runs'> & Bookkeeping;
export type Entry = ToyEntry | Gpt2Entry | SweepEntry;

export type PartData = ToyTraceColumns | Gpt2TraceColumns | { runs: RunSummary[] };
export type Tensors = { final: ToyRunRecord['final'] } | { weights: Gpt2RunRecord['weights'] };

interface HistorySchema extends DBSchema {
  records: { key: string; value: Entry };
  parts: { key: [string, number]; value: { id: string; seq: number; data: PartData } };
  tensors: { key: string; value: { id: string } & Tensors };
}

/** One write of an entry: its new bookkeeping, the part it adds, its tensors (replacing older ones). */
export interface EntryWrite {
  entry: Entry;
  part?: PartData;
  tensors?: Tensors;
  /** A new entry (the first write); otherwise the entry must still exist (not deleted elsewhere). */
  create?: boolean;
}

const BOOKKEEPING = ['owner', 'updatedAt', 'rows', 'parts', 'bytes', 'finalLoss'] as const;

export function splitEntry(e: Entry): { head: Record<string, unknown>; book: Bookkeeping } {
  const { owner, updatedAt, rows, parts, bytes, finalLoss, ...head } = e;
  return { head, book: { owner, updatedAt, rows, parts, bytes, finalLoss } };
}

const empty = () => new Float32Array(0);
const emptyToyTrace = (): ToyTraceColumns => Object.fromEntries(['step', ...TOY_DENSE, 'testStep', 'testLoss'].map((k) => [k, empty()])) as ToyTraceColumns;
const emptyGpt2Trace = (): Gpt2TraceColumns => Object.fromEntries(GPT2_TRACE_KEYS.map((k) => [k, empty()])) as Gpt2TraceColumns;

/** An entry read back, checked: its record fields through the record validator (with no trace), its bookkeeping by type. */
export function checkEntry(raw: unknown): Entry {
  if (typeof raw !== 'object' || raw === null) throw new RecordError('entry is not an object');
  const o = raw as Record<string, unknown>;
  for (const k of BOOKKEEPING) if (!Object.hasOwn(o, k)) throw new RecordError(`entry lacks "${k}"`);
  const { head, book } = splitEntry(o as unknown as Entry);
  if (typeof book.owner !== 'string' || typeof book.updatedAt !== 'number' || ![book.rows, book.parts, book.bytes].every((n) => Number.isInteger(n) && n >= 0) || (book.finalLoss !== null && typeof book.finalLoss !== 'number')) throw new RecordError('entry bookkeeping is damaged');
  const id = typeof head.id === 'string' ? head.id.slice(0, 64) : '?';
  if (head.kind === 'toy') return { ...stripBulk(checkToyRun({ ...head, trace: emptyToyTrace(), final: null }, `record ${id}`)), ...book } as Entry;
  if (head.kind === 'gpt2') return { ...stripBulk(checkGpt2Run({ ...head, trace: emptyGpt2Trace(), weights: null }, `record ${id}`)), ...book } as Entry;
  if (head.kind === 'sweep') {
    const { resolved: _r, ...rec } = checkSweep({ ...head, runs: [] }, `record ${id}`);
    return { ...stripBulk(rec), ...book } as Entry;
  }
  throw new RecordError(`record ${id} has an unknown kind`);
}

function stripBulk(r: ResultRecord): Record<string, unknown> {
  if (r.kind === 'toy') {
    const { trace: _t, final: _f, ...head } = r;
    return head;
  }
  if (r.kind === 'gpt2') {
    const { trace: _t, weights: _w, ...head } = r;
    return head;
  }
  const { runs: _r, ...head } = r;
  return head;
}

/** Rebuild a whole record from its entry, parts and tensors; throws RecordError when they disagree or are damaged. */
export function assemble(entry: Entry, parts: Array<{ seq: number; data: PartData }>, tensors: Tensors | undefined): ResultRecord {
  const { head, book } = splitEntry(entry);
  const id = String(head.id).slice(0, 64);
  if (parts.length !== book.parts || parts.some((p, i) => p.seq !== i)) throw new RecordError(`record ${id} has ${parts.length} of its ${book.parts} stored parts`);
  let record: ResultRecord;
  if (head.kind === 'sweep') {
    const runs = parts.flatMap((p) => ((p.data as { runs?: unknown }).runs as RunSummary[]) ?? []);
    if (runs.length !== book.rows) throw new RecordError(`record ${id} holds ${runs.length} of its ${book.rows} runs`);
    const { resolved: _r, ...rec } = checkSweep({ ...head, runs }, `record ${id}`);
    return rec;
  }
  const keys = head.kind === 'toy' ? ['step', ...TOY_DENSE, 'testStep', 'testLoss'] : GPT2_TRACE_KEYS;
  const trace: Record<string, Column> = {};
  for (const k of keys) {
    const cols = parts.map((p) => (p.data as unknown as Record<string, unknown>)[k]);
    if (!cols.every((c) => c instanceof Float32Array || c instanceof Float64Array)) throw new RecordError(`record ${id}: a stored part lacks its ${k} column`);
    trace[k] = concatColumns(cols as Column[]);
  }
  if (head.kind === 'toy') record = checkToyRun({ ...head, trace, final: (tensors as { final?: unknown } | undefined)?.final ?? null }, `record ${id}`);
  else record = checkGpt2Run({ ...head, trace, weights: (tensors as { weights?: unknown } | undefined)?.weights ?? null }, `record ${id}`);
  if (record.trace.step.length !== book.rows) throw new RecordError(`record ${id} holds ${record.trace.step.length} of its ${book.rows} rows`);
  return record;
}

export class HistoryDb {
  constructor(private readonly db: IDBPDatabase<HistorySchema>) {}

  /** Every entry, checked; damaged or old-version ones are set aside with the reason. */
  async list(): Promise<{ entries: Entry[]; skipped: Array<{ id: string; reason: string }> }> {
    const raw = await this.db.getAll('records');
    const entries: Entry[] = [];
    const skipped: Array<{ id: string; reason: string }> = [];
    for (const r of raw as unknown[]) {
      try {
        entries.push(checkEntry(r));
      } catch (e) {
        const id = typeof (r as { id?: unknown })?.id === 'string' ? ((r as { id: string }).id).slice(0, 64) : '?';
        skipped.push({ id, reason: e instanceof RecordError ? e.message : 'unreadable' });
      }
    }
    return { entries, skipped };
  }

  /** A whole record (trace and tensors). Throws RecordError when it is damaged, or when it is gone. */
  async read(id: string): Promise<ResultRecord> {
    const tx = this.db.transaction(['records', 'parts', 'tensors'], 'readonly');
    const [entry, parts, tensors] = await Promise.all([
      tx.objectStore('records').get(id),
      tx.objectStore('parts').getAll(IDBKeyRange.bound([id, 0], [id, Infinity])),
      tx.objectStore('tensors').get(id),
      tx.done,
    ]);
    if (!entry) throw new RecordError(`record ${id.slice(0, 64)} is no longer stored`);
    return assemble(checkEntry(entry), parts, tensors);
  }

  /**
   * Several entries' writes in one transaction (the recorders' batch). Returns the ids whose entries
   * were gone (deleted in History, maybe in another tab): nothing is written for those. Throws what the
   * transaction failed with (QuotaExceededError when storage is full): then nothing at all was written.
   */
  async write(writes: readonly EntryWrite[]): Promise<Set<string>> {
    const gone = new Set<string>();
    const tx = this.db.transaction(['records', 'parts', 'tensors'], 'readwrite');
    const records = tx.objectStore('records');
    try {
      for (const w of writes) {
        const id = w.entry.id;
        if (!w.create && !(await records.getKey(id))) {
          gone.add(id);
          continue;
        }
        if (w.part) await tx.objectStore('parts').put({ id, seq: w.entry.parts - 1, data: w.part });
        if (w.tensors) await tx.objectStore('tensors').put({ id, ...w.tensors });
        await records.put(w.entry);
      }
      await tx.done;
    } catch (e) {
      try {
        tx.abort();
      } catch {
        /* already aborted */
      }
      await tx.done.catch(() => undefined);
      throw e;
    }
    return gone;
  }

  async remove(ids: readonly string[]): Promise<void> {
    const tx = this.db.transaction(['records', 'parts', 'tensors'], 'readwrite');
    for (const id of ids) {
      void tx.objectStore('records').delete(id);
      void tx.objectStore('parts').delete(IDBKeyRange.bound([id, 0], [id, Infinity]));
      void tx.objectStore('tensors').delete(id);
    }
    await tx.done;
  }

  async clear(): Promise<void> {
    const tx = this.db.transaction(['records', 'parts', 'tensors'], 'readwrite');
    await Promise.all([tx.objectStore('records').clear(), tx.objectStore('parts').clear(), tx.objectStore('tensors').clear(), tx.done]);
  }

  close(): void {
    this.db.close();
  }
}

/**
 * Open the history, or say why it is off (no IndexedDB: private browsing in some browsers, storage
 * disabled, or a newer page holding the database). `onBlocking`: a newer version of the page needs the
 * database; this tab closes it and stops recording.
 */
export async function openHistoryDb(onBlocking: () => void): Promise<HistoryDb | { off: string }> {
  let factory: IDBFactory | undefined;
  try {
    factory = globalThis.indexedDB;
  } catch {
    factory = undefined;
  }
  if (!factory) return { off: 'this browser gives the page no IndexedDB (private browsing, or storage is disabled)' };
  try {
    let wrapper: HistoryDb | null = null;
    const db = await openDB<HistorySchema>(DB_NAME, DB_VERSION, {
      upgrade(d) {
        if (!d.objectStoreNames.contains('records')) d.createObjectStore('records', { keyPath: 'id' });
        if (!d.objectStoreNames.contains('parts')) d.createObjectStore('parts', { keyPath: ['id', 'seq'] });
        if (!d.objectStoreNames.contains('tensors')) d.createObjectStore('tensors', { keyPath: 'id' });
      },
      blocking() {
        wrapper?.close();
        onBlocking();
      },
    });
    wrapper = new HistoryDb(db);
    return wrapper;
  } catch (e) {
    const name = (e as DOMException)?.name;
    if (name === 'VersionError') return { off: 'a newer version of the playground, open in another tab, has upgraded the history: reload this page' };
    return { off: `the browser refused to open IndexedDB (${name || (e as Error)?.message || 'unknown error'})` };
  }
}
