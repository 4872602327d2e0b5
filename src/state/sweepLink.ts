// The sweep's share link: sweepSpec's codec (#sweep=1&kind=...), beside the playground's and the GPT-2
// tab's fragments. Opening one shows the Experiments tab with the sweep in the form (nothing starts on
// its own); a bad one says why and shows the default sweep.
import { decodeSweepLink } from '../experiments/sweep/spec.ts';
import { useGpuStore } from './gpuStore.ts';
import { defaultForm, formFromSpec, setForm } from './sweepStore.ts';
import { useUiStore } from './uiStore.ts';

export const isSweepFragment = (fragment: string): boolean => /^sweep=/.test(fragment.startsWith('#') ? fragment.slice(1) : fragment);

export function openSweepLink(fragment: string): void {
  const ui = useUiStore.getState();
  ui.setTab('experiments');
  const d = decodeSweepLink(fragment);
  if (!d.ok) {
    setForm(defaultForm(useGpuStore.getState().isSoftware || useGpuStore.getState().status !== 'ready'));
    ui.setNotice({ kind: 'error', text: `This sweep link could not be opened: ${d.error}. Showing the default sweep instead.` });
    return;
  }
  setForm(formFromSpec(d.value.spec, 'custom'));
  ui.setNotice({ kind: 'info', text: `Opened a shared sweep (${d.value.kind}). Press “Run sweep” to reproduce it.` });
}
