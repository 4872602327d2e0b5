// The page's run history: opens the database once (or notes why it is off), keeps the History panel's
// list current (also when another tab changes it), reads, imports, deletes and clears records, and holds
// the recorders' write loop (recorder.ts). Nothing here imports React or touches the GPU.
import type { ResultRecord } from '../../results/records.ts';
import { lastFinite } from '../../results/records.ts';
import { openHistoryDb, type EntryWrite, type HistoryDb, type PartData, type Tensors } from './db.ts';
import { useHistoryStore, type ListedEntry } from './historyStore.ts';
import { announceChange, holdTabLock, LIVE_WITHOUT_LOCKS_MS, liveTabs, onOtherTabChange, TAB_ID } from './tabs.ts';

const store = () => useHistoryStore.getState();

let ready: Promise<HistoryDb | null> | null = null;
let db: HistoryDb | null = null;
/** Records whose entry lists fine but whose trace or tensors could not be read: listed as skipped, not as runs. */
const unreadable = new Map<string, string>();

/** A stored record could not be read back (damaged): History lists it with the reason, among the skipped. */
export function noteUnreadable(id: string, reason: string): void {
  unreadable.set(id, reason);
  void refreshHistory();
}

/** Open the history (once). Resolves to the database, or null when history is off. Never rejects. */
export function startHistory(): Promise<HistoryDb | null> {
  ready ??= (async () => {
    holdTabLock();
    const opened = await openHistoryDb(() => turnOff('a newer version of the playground was opened in another tab; reload this page to keep recording'));
    if ('off' in opened) {
      store().set({ status: 'off', offReason: opened.off });
      return null;
    }
    db = opened;
    store().set({ status: 'on', offReason: null });
    // Closing or leaving the page: write what is pending now rather than at the next tick.
    globalThis.addEventListener?.('pagehide', () => void flush());
    onOtherTabChange(() => void refreshHistory());
    await refreshHistory();
    return db;
  })().catch((e) => {
    store().set({ status: 'off', offReason: `history could not start (${(e as Error)?.message ?? e})` });
    return null;
  });
  return ready;
}

/** The database once it is open, or null when history is off. */
export function historyDb(): Promise<HistoryDb | null> {
  return ready ?? startHistory();
}

function turnOff(reason: string): void {
  db = null;
  ready = Promise.resolve(null);
  store().set({ status: 'off', offReason: reason });
}

/** Re-read the list, the live tabs and the storage estimate. */
export async function refreshHistory(): Promise<void> {
  const d = db;
  if (!d) return;
  try {
    const [{ entries, skipped }, live, estimate] = await Promise.all([d.list(), liveTabs(), globalThis.navigator?.storage?.estimate?.().catch(() => undefined)]);
    const now = Date.now();
    const listed: ListedEntry[] = entries
      .filter((entry) => !unreadable.has(entry.id))
      .map((entry) => {
        const here = entry.status === 'running' && entry.owner === TAB_ID;
        const alive = here || (entry.status === 'running' && (live ? live.has(entry.owner) : now - entry.updatedAt < LIVE_WITHOUT_LOCKS_MS));
        return { entry, here, status: entry.status === 'running' && !alive ? ('interrupted' as const) : entry.status };
      })
      .sort((a, b) => b.entry.createdAt - a.entry.createdAt);
    const present = new Set(entries.map((e) => e.id));
    const damaged = [...unreadable].filter(([id]) => present.has(id)).map(([id, reason]) => ({ id, reason }));
    store().set({ entries: listed, skipped: [...skipped, ...damaged], usage: estimate?.usage ?? null, quota: estimate?.quota ?? null });
  } catch (e) {
    store().set({ writeError: `The history could not be read: ${(e as Error)?.message ?? e}` });
  }
}

/** A whole stored record (trace and tensors); throws RecordError when damaged or gone. */
export async function readRecord(id: string): Promise<ResultRecord> {
  const d = await historyDb();
  if (!d) throw new Error('history is off');
  return d.read(id);
}

/** The status a stored record has now (interrupted when its tab is gone). */
export function listedStatus(id: string): ListedEntry | undefined {
  return store().entries.find((e) => e.entry.id === id);
}

export async function deleteRecords(ids: readonly string[]): Promise<void> {
  const d = await historyDb();
  if (!d || !ids.length) return;
  await d.remove(ids);
  for (const id of ids) unreadable.delete(id);
  announceChange();
  await refreshHistory();
  retryBlocked();
}

export async function clearHistory(): Promise<void> {
  const d = await historyDb();
  if (!d) return;
  await d.clear();
  unreadable.clear();
  store().set({ skipped: [], quotaFull: null });
  announceChange();
  await refreshHistory();
  retryBlocked();
}

/** The entry and single part that store a whole record (an imported bundle's). */
export function writesOf(r: ResultRecord, owner = TAB_ID): EntryWrite {
  const book = { owner, updatedAt: Date.now(), parts: 1 };
  if (r.kind === 'sweep') {
    const { runs, ...head } = r;
    const part: PartData = { runs };
    return { entry: { ...head, ...book, rows: runs.length, bytes: JSON.stringify(runs).length, finalLoss: null }, part, create: true };
  }
  const bytes = Object.values(r.trace).reduce((a, c) => a + c.byteLength, 0);
  if (r.kind === 'toy') {
    const { trace, final, ...head } = r;
    const tensors: Tensors = { final };
    return { entry: { ...head, ...book, rows: trace.step.length, bytes: bytes + (final ? final.A.byteLength + final.B.byteLength : 0), finalLoss: lastFinite(trace.loss) }, part: trace, tensors, create: true };
  }
  const { trace, weights, ...head } = r;
  const tensors: Tensors = { weights };
  const wBytes = weights ? weights.tensors.reduce((a, w) => a + w.A.byteLength + w.B.byteLength, 0) : 0;
  return { entry: { ...head, ...book, rows: trace.step.length, bytes: bytes + wBytes, finalLoss: lastFinite(trace.loss) }, part: trace, tensors, create: true };
}

/** Store whole records (a dropped bundle's); records already stored (same id) are replaced. */
export async function importRecords(records: readonly ResultRecord[]): Promise<void> {
  const d = await historyDb();
  if (!d) return;
  const busy = records.find((r) => [...writers].some((w) => w.id === r.id));
  if (busy) throw new Error(`record ${busy.id} is being written by this tab`);
  await d.remove(records.map((r) => r.id));
  await runWrite(records.map((r) => writesOf(r)));
  announceChange();
  await refreshHistory();
}

// ---- the write loop ----

/** A source of writes for one entry: a run or a sweep being recorded (recorder.ts). */
export interface Writer {
  readonly id: string;
  /** True while it has something to write. */
  readonly dirty: boolean;
  /** Its next write (not yet applied); null when there is nothing to write. */
  take(): EntryWrite | null;
  /** The write was stored. */
  committed(w: EntryWrite): void;
  /** Its entry was deleted (here or in another tab): stop writing. */
  gone(): void;
  /** Storage was full: wait for room. */
  blocked: boolean;
}

/** At most one batch of writes per this interval: a crash loses at most about this much of a run. */
export const FLUSH_MS = 1000;

const writers = new Set<Writer>();
let timer: ReturnType<typeof setTimeout> | null = null;
let flushing: Promise<void> | null = null;

export function addWriter(w: Writer): void {
  writers.add(w);
  scheduleFlush(0);
}

export function removeWriter(w: Writer): void {
  writers.delete(w);
}

/** Write soon: within FLUSH_MS (delay 0 for a run's first and last write). */
export function scheduleFlush(delay = FLUSH_MS): void {
  if (timer !== null) {
    if (delay > 0) return;
    clearTimeout(timer);
  }
  timer = setTimeout(() => {
    timer = null;
    void flush();
  }, delay);
}

/** Try again the writers that stopped on full storage (after the user deleted something). */
export function retryBlocked(): void {
  let any = false;
  for (const w of writers) {
    if (w.blocked) {
      w.blocked = false;
      any = true;
    }
  }
  if (any) {
    store().set({ quotaFull: null });
    scheduleFlush(0);
  }
}

/** Write everything pending now (also what finishing runs wait for). */
export async function flush(): Promise<void> {
  while (flushing) await flushing;
  const batch: Array<{ w: Writer; write: EntryWrite }> = [];
  for (const w of writers) {
    if (w.blocked || !w.dirty) continue;
    const write = w.take();
    if (write) batch.push({ w, write });
  }
  if (!batch.length) return;
  flushing = (async () => {
    const d = await historyDb();
    if (!d) {
      for (const { w } of batch) writers.delete(w);
      return;
    }
    try {
      const gone = await d.write(batch.map((b) => b.write));
      for (const { w, write } of batch) (gone.has(w.id) ? w.gone() : w.committed(write));
    } catch (e) {
      if (isQuotaError(e)) {
        for (const { w } of batch) w.blocked = true;
        store().set({ quotaFull: `The browser's storage for this page is full: ${batch.length === 1 ? 'a run' : `${batch.length} runs`} could not be saved past this point (they stay on the page, and are kept as interrupted if you close it). Delete old runs below to make room; saving resumes at once.` });
        void refreshHistory();
      } else {
        for (const { w } of batch) writers.delete(w);
        store().set({ writeError: `Saving to the history failed (${(e as Error)?.name || (e as Error)?.message || e}); the runs on the page are not affected.` });
      }
    }
  })().finally(() => {
    flushing = null;
  });
  await flushing;
  if ([...writers].some((w) => w.dirty && !w.blocked)) scheduleFlush();
}

/** One batch written now, outside the loop (imports). */
async function runWrite(writes: EntryWrite[]): Promise<void> {
  const d = await historyDb();
  if (!d) return;
  try {
    await d.write(writes);
  } catch (e) {
    if (isQuotaError(e)) throw new Error('the browser’s storage for this page is full: delete old runs in History first');
    throw e;
  }
}

export function isQuotaError(e: unknown): boolean {
  const name = (e as DOMException)?.name ?? '';
  const inner = (e as { inner?: { name?: string } })?.inner?.name ?? '';
  return name === 'QuotaExceededError' || inner === 'QuotaExceededError' || /quota/i.test((e as Error)?.message ?? '');
}

