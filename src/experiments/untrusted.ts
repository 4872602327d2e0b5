// Echoing untrusted text (a link, a file, a flag) in a message: every codec and validator quotes what it
// echoes through `quote`, so a control or bidi character in the input cannot reorder or hide the message.

/** A short, printable excerpt of untrusted text for an error message: anything outside printable ASCII becomes '?'. */
export function quote(s: string, max = 24): string {
  const clean = String(s).replace(/[^\x20-\x7e]/g, '?');
  return `"${clean.length > max ? clean.slice(0, max) + '…' : clean}"`;
}

/** Untrusted text (or a message that embeds some, like JSON.parse's) made printable, without quotes. */
export function printable(s: string, max = 120): string {
  const clean = String(s).replace(/[^\x20-\x7e]/g, '?');
  return clean.length > max ? clean.slice(0, max) + '…' : clean;
}

/**
 * A text file's bytes as text: UTF-8 (a byte sequence that is not UTF-8 is refused rather than turned
 * into replacement characters) with no NUL byte (a binary file) and something besides white space.
 * The message names what is wrong, not the file (the caller says which file).
 */
export function decodeText(bytes: Uint8Array): { ok: true; value: string } | { ok: false; error: string } {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return { ok: false, error: 'is not UTF-8 text (a binary file?)' };
  }
  if (text.includes('\0')) return { ok: false, error: 'is not text (it holds NUL bytes: a binary file?)' };
  if (!text.trim()) return { ok: false, error: 'is empty' };
  return { ok: true, value: text };
}

/** An untrusted JSON value (a file's field) quoted for a message: its JSON text, made printable and short. */
export function quoteJson(v: unknown, max = 40): string {
  const json = JSON.stringify(v);
  return printable(json === undefined ? String(v) : json, max);
}
