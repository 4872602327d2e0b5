// Reading a dropped .zip (stored and deflated entries, folders), and finding a PEFT adapter's two files
// in what was dropped: the files, a folder (checkpoints inside: the shallowest pair), or a zip.
import { deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { findAdapterFiles } from '../../src/experiments/gpt2/adapterFiles.ts';
import { readZip } from '../../src/models/zip.ts';

/** A minimal zip writer (CRC left 0: the reader does not check it). */
function zip(entries: Array<{ name: string; data?: Uint8Array; deflate?: boolean }>): Uint8Array {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name);
    const raw = e.data ?? new Uint8Array(0);
    const packed = e.deflate ? deflateRawSync(raw) : Buffer.from(raw);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(e.deflate ? 8 : 0, 8);
    local.writeUInt32LE(packed.length, 18);
    local.writeUInt32LE(raw.length, 22);
    local.writeUInt16LE(name.length, 26);
    const dir = Buffer.alloc(46);
    dir.writeUInt32LE(0x02014b50, 0);
    dir.writeUInt16LE(e.deflate ? 8 : 0, 10);
    dir.writeUInt32LE(packed.length, 20);
    dir.writeUInt32LE(raw.length, 24);
    dir.writeUInt16LE(name.length, 28);
    dir.writeUInt32LE(offset, 42);
    parts.push(local, name, packed);
    central.push(dir, name);
    offset += 30 + name.length + packed.length;
  }
  const dirBytes = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(dirBytes.length, 12);
  end.writeUInt32LE(offset, 16);
  return new Uint8Array(Buffer.concat([...parts, dirBytes, end]));
}

const text = (s: string) => new TextEncoder().encode(s);

describe('zip', () => {
  it('reads stored and deflated files, skipping folders', async () => {
    const big = text('x'.repeat(5000) + 'end');
    const files = await readZip(zip([{ name: 'ad/' }, { name: 'ad/a.json', data: text('{"r": 2}') }, { name: 'ad/b.bin', data: big, deflate: true }]));
    expect([...files.keys()]).toEqual(['ad/a.json', 'ad/b.bin']);
    expect(new TextDecoder().decode(files.get('ad/a.json'))).toBe('{"r": 2}');
    expect(files.get('ad/b.bin')).toEqual(big);
  });

  it('refuses what is not a zip, or is truncated, saying so', async () => {
    await expect(readZip(text('not a zip at all, just some text'))).rejects.toThrow(/not a zip archive/);
    const z = zip([{ name: 'a.json', data: text('x'.repeat(100)), deflate: true }]);
    await expect(readZip(z.subarray(0, z.length - 5))).rejects.toThrow(/zip: /);
    const cut = z.slice();
    cut.set([0xff, 0xff, 0xff, 0xff], 30 + 'a.json'.length); // damage the deflate stream
    await expect(readZip(cut)).rejects.toThrow(/a\.json (does not inflate|inflates to)/);
  });
});

describe('finding a PEFT adapter in what was dropped', () => {
  const cfg = text('{"peft_type": "LORA"}');
  const st = new Uint8Array([1, 2, 3]);
  it('takes the two files, a folder (the shallowest pair) or a zip', async () => {
    const two = await findAdapterFiles([{ path: 'adapter_config.json', bytes: cfg }, { path: 'adapter_model.safetensors', bytes: st }], readZip);
    expect(two).toMatchObject({ configJson: '{"peft_type": "LORA"}', folder: '' });
    const folder = await findAdapterFiles([
      { path: 'run/checkpoint-5/adapter_config.json', bytes: text('{}') },
      { path: 'run/checkpoint-5/adapter_model.safetensors', bytes: st },
      { path: 'run/adapter_config.json', bytes: cfg },
      { path: 'run/adapter_model.safetensors', bytes: st },
      { path: 'run/README.md', bytes: text('# card') },
    ], readZip);
    expect(folder).toMatchObject({ configJson: '{"peft_type": "LORA"}', folder: 'run' });
    const zipped = await findAdapterFiles([{ path: 'ad.zip', bytes: zip([{ name: 'out/adapter_config.json', data: cfg, deflate: true }, { name: 'out/adapter_model.safetensors', data: st }]) }], readZip);
    expect(zipped).toMatchObject({ folder: 'ad.zip/out', safetensors: st });
  });

  it('says what is missing', async () => {
    await expect(findAdapterFiles([{ path: 'adapter_config.json', bytes: cfg }], readZip)).rejects.toThrow(/need adapter_model\.safetensors beside adapter_config\.json; got adapter_config\.json/);
    await expect(findAdapterFiles([{ path: 'adapter_config.json', bytes: cfg }, { path: 'adapter_model.bin', bytes: st }], readZip)).rejects.toThrow(/PyTorch pickle/);
    await expect(findAdapterFiles([{ path: 'notes.txt', bytes: cfg }], readZip)).rejects.toThrow(/need adapter_config\.json and adapter_model\.safetensors; got notes\.txt/);
    await expect(findAdapterFiles([{ path: 'x/adapter_config.json', bytes: cfg }, { path: 'y/adapter_model.safetensors', bytes: st }], readZip)).rejects.toThrow(/beside/);
  });
});
