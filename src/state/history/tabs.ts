// Which tabs are open: each tab holds a Web Lock named after its id for as long as it lives, so another
// tab can tell a record still being written (its owner's lock is held) from one whose tab closed or
// crashed mid-run (interrupted). Without the Locks API, a record counts as live while it was written in
// the last few seconds. Tabs tell each other that the history changed over a BroadcastChannel.

export const TAB_ID: string = globalThis.crypto?.randomUUID?.() ?? `tab-${Date.now()}-${Math.round(Math.random() * 1e9)}`;
const LOCK_PREFIX = 'lora-playground-tab:';
/** Without locks: a record written within this long counts as still being written. */
export const LIVE_WITHOUT_LOCKS_MS = 15_000;

let held = false;

/** Hold this tab's lock until the tab goes away. */
export function holdTabLock(): void {
  if (held || !globalThis.navigator?.locks) return;
  held = true;
  void navigator.locks.request(LOCK_PREFIX + TAB_ID, () => new Promise<void>(() => undefined)).catch(() => undefined);
}

/** Ids of the tabs alive now (this one included), or null when the browser cannot tell. */
export async function liveTabs(): Promise<Set<string> | null> {
  if (!globalThis.navigator?.locks) return null;
  try {
    const q = await navigator.locks.query();
    return new Set((q.held ?? []).map((l) => l.name ?? '').filter((n) => n.startsWith(LOCK_PREFIX)).map((n) => n.slice(LOCK_PREFIX.length)));
  } catch {
    return null;
  }
}

const channel: BroadcastChannel | null = typeof BroadcastChannel === 'function' ? new BroadcastChannel('lora-playground-history') : null;

/** Tell the other tabs that the history changed (a run started, finished, was deleted...). */
export function announceChange(): void {
  channel?.postMessage({ changed: TAB_ID });
}

export function onOtherTabChange(fn: () => void): void {
  if (channel) channel.onmessage = () => fn();
}
