// The files of a .zip archive (as a browser's "compress folder" or `zip -r` makes them): the central
// directory at the end lists each file's name, method and sizes; stored files (method 0) are copied,
// deflated ones (method 8) inflated with the platform's DecompressionStream('deflate-raw'). No ZIP64,
// no encryption: those are refused with the reason.

export class ZipError extends Error {
  constructor(message: string) {
    super(`zip: ${message}`);
    this.name = 'ZipError';
  }
}

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

async function inflateRaw(data: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([data as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream('deflate-raw'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Every file in the archive (folders left out), by its path inside the archive. */
export async function readZip(input: ArrayBuffer | Uint8Array): Promise<Map<string, Uint8Array>> {
  const bytes = input instanceof Uint8Array ? input : new Uint8Array(input);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // The end-of-central-directory record: 22 bytes plus a comment of up to 65535.
  let eocd = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 65535); i--) {
    if (view.getUint32(i, true) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new ZipError('not a zip archive (no end-of-directory record; truncated?)');
  const count = view.getUint16(eocd + 10, true);
  const dirOffset = view.getUint32(eocd + 16, true);
  if (count === 0xffff || dirOffset === 0xffffffff) throw new ZipError('ZIP64 archives are not supported');
  const out = new Map<string, Uint8Array>();
  let p = dirOffset;
  for (let n = 0; n < count; n++) {
    if (p + 46 > bytes.length || view.getUint32(p, true) !== CENTRAL) throw new ZipError(`the directory entry ${n + 1} of ${count} is damaged`);
    const flags = view.getUint16(p + 8, true);
    const method = view.getUint16(p + 10, true);
    const packed = view.getUint32(p + 20, true);
    const size = view.getUint32(p + 24, true);
    const nameLen = view.getUint16(p + 28, true);
    const extraLen = view.getUint16(p + 30, true);
    const commentLen = view.getUint16(p + 32, true);
    const local = view.getUint32(p + 42, true);
    const name = new TextDecoder().decode(bytes.subarray(p + 46, p + 46 + nameLen));
    p += 46 + nameLen + extraLen + commentLen;
    if (name.endsWith('/')) continue;
    if (flags & 1) throw new ZipError(`${name} is encrypted`);
    if (local + 30 > bytes.length || view.getUint32(local, true) !== LOCAL) throw new ZipError(`${name}: damaged local header`);
    const start = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
    if (start + packed > bytes.length) throw new ZipError(`${name} runs past the end of the archive (truncated?)`);
    const data = bytes.subarray(start, start + packed);
    let file: Uint8Array;
    if (method === 0) file = data.slice();
    else if (method === 8) {
      try {
        file = await inflateRaw(data);
      } catch {
        throw new ZipError(`${name} does not inflate (damaged?)`);
      }
    } else throw new ZipError(`${name} uses compression method ${method} (only stored and deflate are supported)`);
    if (file.length !== size) throw new ZipError(`${name} inflates to ${file.length} bytes, the directory says ${size}`);
    out.set(name, file);
  }
  return out;
}
