import { useState } from 'react';
import { useGpt2Store } from '../state/gpt2Store.ts';
import { useSweepStore } from '../state/sweepStore.ts';
import { useUiStore } from '../state/uiStore.ts';
import { shareUrl } from '../state/urlSync.ts';

const TITLES = {
  playground: 'Copy a link that reopens this experiment: every setting, the seed and the runs',
  experiments: "Copy a link that reopens this sweep's settings",
  gpt2: 'Copy a link that reopens these GPT-2 settings (the bundled text by name; pasted text is not included)',
} as const;

/** Copies the URL of the experiment on the tab in view (settings, seed, runs; or the sweep; or GPT-2's settings). */
export function CopyLinkButton() {
  const [copied, setCopied] = useState<'no' | 'yes' | 'failed'>('no');
  const tab = useUiStore((s) => s.tab);
  // The playground's link always holds its last valid settings; the other tabs need a valid form.
  const sweepOk = useSweepStore((s) => s.checked.ok);
  const gpt2Ok = useGpt2Store((s) => s.config !== null);
  const enabled = tab === 'experiments' ? sweepOk : tab === 'gpt2' ? gpt2Ok : true;
  const copy = async () => {
    const url = shareUrl();
    if (url === null) return;
    try {
      await navigator.clipboard.writeText(url);
      setCopied('yes');
    } catch {
      // Clipboard refused (permissions, insecure context): fall back to a prompt the user can copy from.
      window.prompt('Copy this link:', url);
      setCopied('failed');
    }
    setTimeout(() => setCopied('no'), 1800);
  };
  return (
    <button className="btn btn-primary" onClick={() => void copy()} disabled={!enabled} title={enabled ? TITLES[tab] : 'Fix the highlighted field first'}>
      {copied === 'yes' ? 'Link copied ✓' : 'Copy link'}
    </button>
  );
}
