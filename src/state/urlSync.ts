// Keeps the address bar equal to the experiment: the settings in the form (when valid) and the kept
// runs. Opening a link (page load or a pasted link) decodes it; a bad link opens the defaults with a
// short message. Nothing here throws on user input.
import { defaultToyConfig } from '../experiments/config.ts';
import { useConfigStore } from './configStore.ts';
import { replaceRuns } from './runner.ts';
import { useRunsStore } from './runsStore.ts';
import { isGpt2Fragment } from './gpt2Link.ts';
import { openGpt2Link } from './gpt2LinkOpen.ts';
import { isSweepFragment, openSweepLink } from './sweepLink.ts';
import { decodeLink, encodeLink, type SharedState } from './shareLink.ts';
import { useUiStore } from './uiStore.ts';

export function currentLink(): string {
  const state: SharedState = {
    config: useConfigStore.getState().config,
    runs: useRunsStore.getState().runs.map((r) => ({ config: r.config, hidden: !r.visible })),
  };
  return encodeLink(state);
}

/** The full URL of the experiment as it stands. */
export function shareUrl(): string {
  return `${location.origin}${location.pathname}${location.search}#${currentLink()}`;
}

let lastWritten = '';

function write(): void {
  const hash = currentLink();
  if (hash === lastWritten) return;
  lastWritten = hash;
  history.replaceState(history.state, '', `#${hash}`);
}

/** Apply the link in the address bar: its settings go to the form, its runs are queued (and run). */
export function openLink(fragment: string): void {
  // A GPT-2 tab link (#gpt2?...) has its own codec and leaves the playground's settings alone.
  if (isGpt2Fragment(fragment)) {
    openGpt2Link(fragment);
    lastWritten = fragment.startsWith('#') ? fragment.slice(1) : fragment;
    return;
  }
  // A sweep link (#sweep=1&...) opens the Experiments tab with that sweep in its form.
  if (isSweepFragment(fragment)) {
    openSweepLink(fragment);
    lastWritten = fragment.startsWith('#') ? fragment.slice(1) : fragment;
    return;
  }
  const decoded = decodeLink(fragment);
  const ui = useUiStore.getState();
  if (decoded.ok) {
    useConfigStore.getState().setConfig(decoded.state.config);
    void replaceRuns(decoded.state.runs.map((r) => ({ config: r.config, hidden: r.hidden })));
    if (decoded.upgradedFrom !== undefined) ui.setNotice({ kind: 'info', text: `Opened a link from an older version of the playground (v${decoded.upgradedFrom}); it is now written in the current format.` });
    else if (decoded.state.runs.length) ui.setNotice({ kind: 'info', text: `Opened a shared experiment: reproducing its ${decoded.state.runs.length === 1 ? 'run' : `${decoded.state.runs.length} runs`}.` });
  } else {
    useConfigStore.getState().setConfig(defaultToyConfig());
    void replaceRuns([]);
    ui.setNotice({ kind: 'error', text: `This link could not be opened: ${decoded.error}. Showing the default settings instead.` });
  }
  lastWritten = '';
  write();
}

/** Read the address bar now, then keep it in step with the stores. Returns an unsubscribe function. */
export function startUrlSync(): () => void {
  openLink(location.hash);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const schedule = () => {
    if (timer === undefined) timer = setTimeout(() => ((timer = undefined), write()), 150);
  };
  const unsubConfig = useConfigStore.subscribe((s, prev) => s.config !== prev.config && schedule());
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
    unsubRuns();
    window.removeEventListener('hashchange', onHash);
    clearTimeout(timer);
  };
}
