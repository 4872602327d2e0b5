// What the History panel shows: whether history is on, the stored entries (newest first) with the status
// they have now (a 'running' entry whose tab is gone was interrupted), entries that could not be read,
// storage used and the browser's quota, and the messages of the panel (full storage, a dropped file).
import { create } from 'zustand';
import type { StoredStatus } from '../../results/records.ts';
import type { Entry } from './db.ts';

export interface ListedEntry {
  entry: Entry;
  /** 'running' only while a live tab (this one: `here`) writes it; a dead owner's run reads 'interrupted'. */
  status: StoredStatus;
  here: boolean;
}

export interface HistoryState {
  status: 'opening' | 'on' | 'off';
  /** Why history is off (shown as a note; the page works without it). */
  offReason: string | null;
  entries: ListedEntry[];
  /** Entries set aside: damaged, or written by another version of the page. */
  skipped: Array<{ id: string; reason: string }>;
  usage: number | null;
  quota: number | null;
  /** Set when a write failed because storage is full: which runs are stored only in part. */
  quotaFull: string | null;
  /** A failed write other than full storage. */
  writeError: string | null;
  open: boolean;
  /** The message beside the bundle drop zone. */
  dropMessage: { kind: 'info' | 'error'; text: string } | null;
  set(patch: Partial<Omit<HistoryState, 'set'>>): void;
}

export const useHistoryStore = create<HistoryState>()((set) => ({
  status: 'opening',
  offReason: null,
  entries: [],
  skipped: [],
  usage: null,
  quota: null,
  quotaFull: null,
  writeError: null,
  open: false,
  dropMessage: null,
  set: (patch) => set(patch),
}));
