// What each tab shows (the Playground's runs, the sweep on the Experiments tab, the GPT-2 tab's runs), by
// history record id, so that a reload shows the same results again. sessionStorage keeps it per tab
// across reloads; localStorage keeps the last one written, for a page opened anew. Ids only: the results
// themselves are in the history (IndexedDB).
import { useGpt2Store } from '../gpt2Store.ts';
import { useRunsStore } from '../runsStore.ts';
import { useSweepStore } from '../sweepStore.ts';

export interface Workspace {
  playground: Array<{ id: string; hidden: boolean }>;
  sweep: string | null;
  gpt2: string[];
}

const KEY = 'lora-playground-workspace';
const ID = /^[A-Za-z0-9_-]{1,64}$/;

const emptyWorkspace = (): Workspace => ({ playground: [], sweep: null, gpt2: [] });

/** Parse a stored workspace; anything malformed is dropped (it only names records). */
export function parseWorkspace(text: string | null): Workspace | null {
  if (!text || text.length > 100_000) return null;
  try {
    const o = JSON.parse(text) as Record<string, unknown>;
    const ws = emptyWorkspace();
    if (Array.isArray(o.playground)) for (const r of o.playground.slice(0, 64)) if (r && typeof r.id === 'string' && ID.test(r.id)) ws.playground.push({ id: r.id, hidden: r.hidden === true });
    if (typeof o.sweep === 'string' && ID.test(o.sweep)) ws.sweep = o.sweep;
    if (Array.isArray(o.gpt2)) ws.gpt2 = o.gpt2.filter((x): x is string => typeof x === 'string' && ID.test(x)).slice(0, 8);
    return ws;
  } catch {
    return null;
  }
}

function storage(kind: 'sessionStorage' | 'localStorage'): Storage | null {
  try {
    return globalThis[kind] ?? null;
  } catch {
    return null;
  }
}

/** This tab's workspace (a reload: `reload` true), else the last one any tab wrote (a page opened anew). */
export function loadWorkspace(): Workspace & { reload: boolean } {
  const mine = parseWorkspace(storage('sessionStorage')?.getItem(KEY) ?? null);
  if (mine) return { ...mine, reload: true };
  return { ...(parseWorkspace(storage('localStorage')?.getItem(KEY) ?? null) ?? emptyWorkspace()), reload: false };
}

function current(): Workspace {
  return {
    playground: useRunsStore.getState().runs.filter((r) => r.record).map((r) => ({ id: r.record!.id, hidden: !r.visible })),
    sweep: useSweepStore.getState().recordId,
    gpt2: useGpt2Store.getState().runs.flatMap((r) => (r.recordId ? [r.recordId] : [])),
  };
}

let last = '';

function save(): void {
  const text = JSON.stringify(current());
  if (text === last) return;
  last = text;
  try {
    storage('sessionStorage')?.setItem(KEY, text);
    storage('localStorage')?.setItem(KEY, text);
  } catch {
    /* storage full or off: the workspace is a convenience */
  }
}

/** Keep the saved workspace equal to what the tabs show. Call after the startup restore. */
export function startWorkspaceSync(): void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const schedule = () => {
    if (timer === undefined) timer = setTimeout(() => ((timer = undefined), save()), 300);
  };
  useRunsStore.subscribe(schedule);
  useSweepStore.subscribe((s, p) => s.recordId !== p.recordId && schedule());
  useGpt2Store.subscribe((s, p) => s.runs !== p.runs && schedule());
  save();
}
