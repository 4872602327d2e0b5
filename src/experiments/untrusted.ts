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
