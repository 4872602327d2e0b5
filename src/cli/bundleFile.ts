// Result bundles on disk for the CLI: the page's codec (results/bundle.ts) with Node's zlib for gzip.
// A file is gzipped when its name ends in .gz; reading recognises gzip by its magic bytes. Problems with
// the path or the file are UsageErrors (one line, exit 2).
import { readFileSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import { BundleError, MAX_BUNDLE_BYTES, packBundle, readBundle, type Bundle, type Gzip } from '../results/bundle.ts';
import { quote } from '../experiments/untrusted.ts';
import { UsageError } from './args.ts';
import { writeOutput } from './paths.ts';

export const zlibGzip: Gzip = {
  gzip: async (bytes) => new Uint8Array(gzipSync(bytes)),
  gunzip: async (bytes, maxBytes) => {
    try {
      return new Uint8Array(gunzipSync(bytes, { maxOutputLength: maxBytes }));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ERR_BUFFER_TOO_LARGE') throw new BundleError(`the decompressed bundle is larger than ${MAX_BUNDLE_BYTES / 2 ** 20} MiB`);
      throw new BundleError('the file looks gzipped but does not decompress (truncated or damaged)');
    }
  },
};

export async function writeBundleFile(path: string, bundle: Bundle, flag = '--out'): Promise<string> {
  const { bytes, gzipped } = await packBundle(bundle, path.endsWith('.gz') ? zlibGzip : null, 0);
  writeOutput(flag, path, bytes);
  return `wrote ${quote(path, 80)} (${(bytes.length / 1024).toFixed(1)} KiB${gzipped ? ', gzip' : ''})`;
}

export function readFileBytes(path: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new UsageError(`cannot read ${quote(path, 80)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** Whether these bytes claim to be a bundle (gzip, or JSON naming the bundle format near its start). */
export function looksLikeBundle(bytes: Uint8Array): boolean {
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) return true;
  return /"format"\s*:\s*"lora-playground-bundle"/.test(new TextDecoder().decode(bytes.subarray(0, 200)));
}

export async function readBundleBytes(path: string, bytes: Uint8Array): Promise<Bundle> {
  const r = await readBundle(bytes, zlibGzip);
  if (!r.ok) throw new UsageError(`${quote(path, 80)} is not a readable result bundle: ${r.error}`);
  return r.value;
}

export async function readBundleFile(path: string): Promise<Bundle> {
  return readBundleBytes(path, readFileBytes(path));
}
