// Keeps the address bar equal to the experiment on the tab in view: the playground's settings (when
// valid) and kept runs, the Experiments tab's sweep, or the GPT-2 tab's settings. Opening a link (page
// load or a pasted link) decodes it; a bad link opens the defaults with a short message. Nothing here
// throws on user input.
import { defaultToyConfig } from '../experiments/toy/config.ts';
import { encodeSweepLink } from '../experiments/sweep/spec.ts';
import { useConfigStore } from './configStore.ts';
import { useGpt2Store } from './gpt2Store.ts';
import { useSweepStore } from './sweepStore.ts';
import { restoreAtStartup, startupWorkspace } from './history/startup.ts';
import { openRuns } from './runner.ts';
import { useRunsStore } from './runsStore.ts';
import { encodeGpt2Link, isGpt2Fragment } from './gpt2Link.ts';
import { openGpt2Link } from './gpt2LinkOpen.ts';
import { isSweepFragment, openSweepLink } from './sweepLink.ts';
import { decodeLink, encodeLink, type SharedState } from './shareLink.ts';
import { useUiStore } from './uiStore.ts';

/** The playground's link: its settings and runs. */
export function currentLink(): string {
  const state: SharedState = {
    config: useConfigStore.getState().config,
    runs: useRunsStore.getState().runs.map((r) => ({ config: r.config, hidden: !r.visible })),
  };
  return encodeLink(state);
}

/** The link of the tab in view; null while that tab's form has an invalid field. */
export function tabLink(): string | null {
  switch (useUiStore.getState().tab) {
    case 'playground':
      return currentLink();
    case 'experiments': {
      const { checked } = useSweepStore.getState();
      return checked.ok ? encodeSweepLink(checked.value) : null;
    }
    case 'gpt2': {
      const s = useGpt2Store.getState();
      return s.config ? encodeGpt2Link({ model: s.model, text: s.textSource, config: s.config, compare: s.runs.length > 1 }) : null;
    }
  }
}

/** The full URL of the experiment in view, or null while its form is invalid. */
export function shareUrl(): string | null {
  const link = tabLink();
  return link === null ? null : `${location.origin}${location.pathname}${location.search}#${link}`;
}

let lastWritten = '';

function write(): void {
  const hash = tabLink();
  if (hash === null || hash === lastWritten) return;
  lastWritten = hash;
  history.replaceState(history.state, '', `#${hash}`);
}

/**
 * Apply the link in the address bar: its settings go to the form, its runs are queued (and run), or shown
 * at once where a stored run stands for them (history). At page load (`startup`) the other tabs get back
 * what they showed before.
 */
export function openLink(fragment: string, startup = false): void {
  // A GPT-2 tab link (#gpt2?...) has its own codec and leaves the playground's settings alone.
  if (isGpt2Fragment(fragment)) {
    openGpt2Link(fragment);
    lastWritten = '';
    write(); // the link as this version writes it (or the defaults', if it was refused)
    if (startup) void restoreAtStartup('gpt2', false);
    return;
  }
  // A sweep link (#sweep=1&...) opens the Experiments tab with that sweep in its form.
  if (isSweepFragment(fragment)) {
    openSweepLink(fragment);
    lastWritten = '';
    write();
    if (startup) void restoreAtStartup('experiments', false);
    return;
  }
  const decoded = decodeLink(fragment);
  const ui = useUiStore.getState();
  const linkRuns = decoded.ok && decoded.state.runs.length > 0;
  if (decoded.ok) {
    useConfigStore.getState().setConfig(decoded.state.config);
    const n = decoded.state.runs.length;
    void openRuns(decoded.state.runs.map((r) => ({ config: r.config, hidden: r.hidden })), startup ? startupWorkspace : null).then((restored) => {
      if (decoded.upgradedFrom !== undefined || !n || (startup && startupWorkspace.reload && restored === n)) return; // a reload shows its runs again: nothing to say
      ui.setNotice({ kind: 'info', text: restored === n ? `Opened a shared experiment: ${n === 1 ? 'its run is' : `its ${n} runs are`} stored (same settings, engine and adapter) and shown without recomputing; Reproduce trains ${n === 1 ? 'it' : 'one'} again.` : `Opened a shared experiment: reproducing ${restored ? `${n - restored} of its ${n} runs (${restored} stored, shown at once)` : n === 1 ? 'its run' : `its ${n} runs`}.` });
    });
    if (decoded.upgradedFrom !== undefined) ui.setNotice({ kind: 'info', text: `Opened a link from an older version of the playground (v${decoded.upgradedFrom}); it is now written in the current format.` });
  } else {
    useConfigStore.getState().setConfig(defaultToyConfig());
    ui.setNotice({ kind: 'error', text: `This link could not be opened: ${decoded.error}. Showing the default settings instead${useRunsStore.getState().runs.length ? '; your runs are kept' : ''}.` });
  }
  lastWritten = '';
  write();
  if (startup) void restoreAtStartup('playground', linkRuns);
}

/** Read the address bar now, then keep it in step with the stores. Returns an unsubscribe function. */
export function startUrlSync(): () => void {
  openLink(location.hash, true);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const schedule = () => {
    if (timer === undefined) timer = setTimeout(() => ((timer = undefined), write()), 150);
  };
  const unsubConfig = useConfigStore.subscribe((s, prev) => s.config !== prev.config && schedule());
  const unsubTab = useUiStore.subscribe((s, prev) => s.tab !== prev.tab && schedule());
  const unsubSweep = useSweepStore.subscribe((s, prev) => s.checked !== prev.checked && schedule());
  const unsubGpt2 = useGpt2Store.subscribe((s, prev) => (s.config !== prev.config || s.model !== prev.model || s.textSource !== prev.textSource || (s.runs.length > 1) !== (prev.runs.length > 1)) && schedule());
  // Runs: only membership, settings and visibility matter, not trace growth.
  const key = () => useRunsStore.getState().runs.map((r) => `${r.id}${r.visible ? '' : '~'}`).join(',');
  let lastKey = key();
  const unsubRuns = useRunsStore.subscribe(() => {
    const k = key();
    if (k !== lastKey) {
      lastKey = k;
      schedule();
    }
  });
  const onHash = () => {
    if (location.hash.slice(1) !== lastWritten) openLink(location.hash);
  };
  window.addEventListener('hashchange', onHash);
  return () => {
    unsubConfig();
    unsubTab();
    unsubSweep();
    unsubGpt2();
    unsubRuns();
    window.removeEventListener('hashchange', onHash);
    clearTimeout(timer);
  };
}
