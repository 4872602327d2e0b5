// Opening a GPT-2 link: its settings go to the GPT-2 form and the GPT-2 tab is shown (nothing starts
// on its own: a hub model would download without being asked). A bad link says why beside the tab.
import { decodeGpt2Link } from './gpt2Link.ts';
import { formatGpt2Raw, useGpt2Store, validateForm, type Gpt2ModelChoice, type TextSource } from './gpt2Store.ts';
import { GPT2_KEYS, type Gpt2RunConfig } from '../experiments/gpt2/config.ts';
import { useUiStore } from './uiStore.ts';

export function openGpt2Link(fragment: string): void {
  const ui = useUiStore.getState();
  ui.setTab('gpt2');
  const d = decodeGpt2Link(fragment);
  if (!d.ok) {
    ui.setNotice({ kind: 'error', text: `This GPT-2 link could not be opened: ${d.error}. Showing the default settings instead.` });
    return;
  }
  const { model, text, config, compare } = d.state;
  applyGpt2Settings(model, text, config);
  ui.setNotice({
    kind: 'info',
    text: `Opened a shared GPT-2 experiment. Press ${compare ? '“Compare Init[A] vs Init[B]”' : '“Train”'} to reproduce it${text === 'custom' ? '; it was trained on pasted text, which links do not carry: paste your own' : ''}.`,
  });
}

/** Put a run's settings in the GPT-2 form (a link's, or a stored run's so that Train reproduces it). */
export function applyGpt2Settings(model: Gpt2ModelChoice, text: TextSource, config: Gpt2RunConfig): void {
  const raw = Object.fromEntries(GPT2_KEYS.map((k) => [k, formatGpt2Raw(k, config[k])])) as Record<(typeof GPT2_KEYS)[number], string>;
  const s = useGpt2Store.getState();
  const next = { raw, targets: config.targets, model, textSource: text, customText: s.customText };
  s.set({ ...next, ...validateForm(next) });
}
