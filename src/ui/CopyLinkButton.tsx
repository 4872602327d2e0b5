import { useState } from 'react';
import { shareUrl } from '../state/urlSync.ts';

/** Copies the URL of the experiment as it stands (settings, seed, runs). */
export function CopyLinkButton() {
  const [copied, setCopied] = useState<'no' | 'yes' | 'failed'>('no');
  const copy = async () => {
    const url = shareUrl();
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
    <button className="btn btn-primary" onClick={copy} title="Copy a link that reopens this experiment: every setting, the seed and the runs">
      {copied === 'yes' ? 'Link copied ✓' : 'Copy link'}
    </button>
  );
}
