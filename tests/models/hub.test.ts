import { describe, expect, it } from 'vitest';
import {
  HubError,
  MemoryCache,
  TRANSFORMERS_CACHE_NAME,
  downloadRepoFiles,
  downloadUrl,
  hubUrl,
  overallProgress,
  type FetchLike,
  type FileProgress,
} from '../../src/models/hub.ts';
import { GPT2_MODEL_FILES, loadGpt2 } from '../../src/models/gpt2.ts';
import { makeTinyGpt2 } from '../../src/reference/tinyGpt2.ts';

/** A Response whose body arrives in the given chunks; `failAfter` chunks then an error (a dropped connection). */
function streamed(chunks: Uint8Array[], opts: { length?: number | null; failAfter?: number; status?: number; headers?: Record<string, string> } = {}): Response {
  let i = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(ctrl) {
      if (opts.failAfter !== undefined && i === opts.failAfter) {
        ctrl.error(new TypeError('network connection lost'));
        return;
      }
      if (i < chunks.length) ctrl.enqueue(chunks[i++]);
      else ctrl.close();
    },
  });
  const headers = new Headers(opts.headers);
  const total = chunks.reduce((a, c) => a + c.byteLength, 0);
  if (opts.length !== null) headers.set('content-length', String(opts.length ?? total));
  return new Response(body, { status: opts.status ?? 200, headers });
}

const bytesOf = (n: number, seed = 1) => new Uint8Array(n).map((_, i) => (i * 31 + seed) & 255);
const split = (b: Uint8Array, parts: number) => Array.from({ length: parts }, (_, k) => b.slice(Math.floor((k * b.length) / parts), Math.floor(((k + 1) * b.length) / parts)));

/** A fake hub: serves files by URL, counts requests. */
function fakeHub(files: Record<string, Uint8Array>, chunkCount = 4) {
  const calls: string[] = [];
  const fetch: FetchLike = async (url) => {
    calls.push(url);
    const f = files[url];
    if (!f) return new Response('Entry not found', { status: 404 });
    return streamed(split(f, chunkCount));
  };
  return { fetch, calls };
}

/** A clock that advances 250 ms per reading. */
const tickingClock = () => {
  let t = 0;
  return () => (t += 250);
};

describe('hub downloads', () => {
  it('uses the transformers.js cache bucket and URL scheme', () => {
    expect(TRANSFORMERS_CACHE_NAME).toBe('transformers-cache');
    expect(hubUrl('distilbert/distilgpt2', 'model.safetensors')).toBe('https://huggingface.co/distilbert/distilgpt2/resolve/main/model.safetensors');
    expect(hubUrl('openai-community/gpt2', 'config.json', 'v1.0')).toBe('https://huggingface.co/openai-community/gpt2/resolve/v1.0/config.json');
  });

  it('streams with per-chunk progress (bytes, total, speed), caches the complete file, then serves it from the cache', async () => {
    const url = hubUrl('x/y', 'model.safetensors');
    const data = bytesOf(10_000);
    const hub = fakeHub({ [url]: data }, 5);
    const cache = new MemoryCache();
    const events: FileProgress[] = [];
    const first = await downloadUrl(url, 'model.safetensors', { fetch: hub.fetch, cache, onProgress: (p) => events.push(p), now: tickingClock() });
    expect(first.fromCache).toBe(false);
    expect(first.bytes).toEqual(data);
    const loaded = events.filter((e) => e.status === 'downloading').map((e) => e.loaded);
    expect(loaded).toEqual([0, 2000, 4000, 6000, 8000, 10000]);
    expect(events.every((e) => e.total === 10_000)).toBe(true);
    // 2000 bytes per 250 ms tick
    expect(events.filter((e) => e.loaded > 0 && e.status === 'downloading').map((e) => e.bytesPerSecond)).toEqual([8000, 8000, 8000, 8000, 8000]);
    expect(events.at(-1)).toMatchObject({ status: 'done', loaded: 10_000, fromCache: false });

    const stored = cache.entries.get(url)!;
    expect(stored.body).toEqual(data);
    expect(new Headers(stored.headers).get('content-length')).toBe('10000');

    const second = await downloadUrl(url, 'model.safetensors', { fetch: hub.fetch, cache });
    expect(second.fromCache).toBe(true);
    expect(second.bytes).toEqual(data);
    expect(hub.calls).toHaveLength(1);
  });

  it('a connection dropped mid-file is a clear error and leaves nothing in the cache; the retry succeeds', async () => {
    const url = hubUrl('x/y', 'model.safetensors');
    const data = bytesOf(4000);
    const cache = new MemoryCache();
    let attempt = 0;
    const fetch: FetchLike = async () => (++attempt === 1 ? streamed(split(data, 4), { failAfter: 2 }) : streamed(split(data, 4)));
    const events: FileProgress[] = [];
    const err = await downloadUrl(url, 'model.safetensors', { fetch, cache, onProgress: (p) => events.push(p) }).catch((e) => e);
    expect(err).toBeInstanceOf(HubError);
    expect(err.kind).toBe('network');
    expect(err.message).toMatch(/connection dropped while downloading model\.safetensors \(2000 bytes received\)/);
    expect(events.at(-1)).toMatchObject({ status: 'error', loaded: 2000 });
    expect(cache.entries.size).toBe(0);
    const ok = await downloadUrl(url, 'model.safetensors', { fetch, cache });
    expect(ok.bytes).toEqual(data);
    expect(cache.entries.has(url)).toBe(true);
  });

  it('a body shorter or longer than content-length is refused and not cached', async () => {
    const url = hubUrl('x/y', 'f.bin');
    const cache = new MemoryCache();
    const short: FetchLike = async () => streamed([bytesOf(100)], { length: 150 });
    await expect(downloadUrl(url, 'f.bin', { fetch: short, cache })).rejects.toMatchObject({ kind: 'incomplete', message: expect.stringMatching(/received 100 of 150 bytes/) });
    const long: FetchLike = async () => streamed([bytesOf(100), bytesOf(100)], { length: 150 });
    await expect(downloadUrl(url, 'f.bin', { fetch: long, cache })).rejects.toMatchObject({ kind: 'incomplete', message: expect.stringMatching(/received 200 of 150/) });
    expect(cache.entries.size).toBe(0);
  });

  it('without content-length (or with a compressed body) the total is unknown and any complete body is accepted', async () => {
    const url = hubUrl('x/y', 'config.json');
    const events: FileProgress[] = [];
    const fetch: FetchLike = async () => streamed([bytesOf(30), bytesOf(20)], { length: null });
    const r = await downloadUrl(url, 'config.json', { fetch, cache: null, onProgress: (p) => events.push(p) });
    expect(r.bytes.length).toBe(50);
    expect(events.every((e) => e.total === null)).toBe(true);
    const gz: FetchLike = async () => streamed([bytesOf(50)], { length: 17, headers: { 'content-encoding': 'gzip' } });
    expect((await downloadUrl(url, 'config.json', { fetch: gz, cache: null })).bytes.length).toBe(50);
  });

  it('HTTP errors and unreachable hosts give messages a user can act on', async () => {
    const url = hubUrl('nobody/nothing', 'config.json');
    const status = (s: number): FetchLike => async () => new Response('no', { status: s });
    const msg = async (f: FetchLike) => {
      const e = await downloadUrl(url, 'config.json', { fetch: f, cache: null }).catch((x) => x);
      expect(e).toBeInstanceOf(HubError);
      return e as HubError;
    };
    expect((await msg(status(404))).message).toMatch(/HTTP 404 .* does not exist on the hub/);
    expect((await msg(status(404))).status).toBe(404);
    expect((await msg(status(401))).message).toMatch(/private or gated/);
    expect((await msg(status(429))).message).toMatch(/rate-limiting/);
    expect((await msg(status(503))).message).toMatch(/having trouble/);
    const offline = await msg(async () => {
      throw new TypeError('fetch failed');
    });
    expect(offline.kind).toBe('network');
    expect(offline.message).toMatch(/Could not reach the Hugging Face hub to download config\.json \(fetch failed\)/);
  });

  it('a corrupt cache entry (shorter than its content-length) is dropped and downloaded again', async () => {
    const url = hubUrl('x/y', 'f.bin');
    const data = bytesOf(64);
    const cache = new MemoryCache();
    cache.entries.set(url, { body: data.slice(0, 10), headers: [['content-length', '64']] });
    const hub = fakeHub({ [url]: data });
    const r = await downloadUrl(url, 'f.bin', { fetch: hub.fetch, cache });
    expect(r.fromCache).toBe(false);
    expect(r.bytes).toEqual(data);
    expect(cache.entries.get(url)!.body).toEqual(data);
  });

  it('a cache that refuses to store (quota) warns but the download succeeds', async () => {
    const url = hubUrl('x/y', 'f.bin');
    const hub = fakeHub({ [url]: bytesOf(64) });
    const cache = new MemoryCache();
    cache.put = async () => {
      throw new Error('QuotaExceededError');
    };
    const warnings: string[] = [];
    const r = await downloadUrl(url, 'f.bin', { fetch: hub.fetch, cache, onCacheWarning: (w) => warnings.push(w) });
    expect(r.bytes.length).toBe(64);
    expect(warnings[0]).toMatch(/Could not cache f\.bin \(QuotaExceededError\)/);
  });

  it('can be cancelled, and a cancelled download is not cached', async () => {
    const url = hubUrl('x/y', 'f.bin');
    const ctrl = new AbortController();
    const cache = new MemoryCache();
    const fetch: FetchLike = async () => streamed(split(bytesOf(1000), 10));
    const p = downloadUrl(url, 'f.bin', {
      fetch,
      cache,
      signal: ctrl.signal,
      onProgress: (e) => {
        if (e.loaded >= 300) ctrl.abort();
      },
    });
    await expect(p).rejects.toMatchObject({ kind: 'aborted' });
    expect(cache.entries.size).toBe(0);
  });

  it('downloads a model repo (tiny GPT-2 on a fake hub) that the loader reads, with overall progress', async () => {
    const tiny = makeTinyGpt2(5);
    const repo = 'test/tiny-gpt2';
    const files = {
      [hubUrl(repo, 'config.json')]: new TextEncoder().encode(JSON.stringify(tiny.configJson)),
      [hubUrl(repo, 'model.safetensors')]: tiny.safetensorsBytes,
    };
    const hub = fakeHub(files, 7);
    const latest = new Map<string, FileProgress>();
    const seenOverall: Array<ReturnType<typeof overallProgress>> = [];
    const got = await downloadRepoFiles(repo, GPT2_MODEL_FILES, {
      fetch: hub.fetch,
      cache: new MemoryCache(),
      onProgress: (p) => {
        latest.set(p.file, p);
        seenOverall.push(overallProgress(latest.values()));
      },
    });
    expect([...latest.values()].map((p) => p.status)).toEqual(['done', 'done']);
    const total = Object.values(files).reduce((a, f) => a + f.byteLength, 0);
    expect(seenOverall.at(-1)).toMatchObject({ loaded: total, total });
    expect(seenOverall[0].total).toBeNull(); // sizes unknown until each file starts
    const w = loadGpt2(new TextDecoder().decode(got.get('config.json')!), got.get('model.safetensors')!);
    expect(w.config.n_layer).toBe(2);
  });
});

describe('downloadGpt2', () => {
  it('downloads a known model by id from its canonical repo, then from the cache', async () => {
    const { downloadGpt2 } = await import('../../src/models/load.ts');
    const tiny = makeTinyGpt2(11);
    const repo = 'distilbert/distilgpt2'; // served by the fake hub with the tiny model's files
    const hub = fakeHub({
      [hubUrl(repo, 'config.json')]: new TextEncoder().encode(JSON.stringify(tiny.configJson)),
      [hubUrl(repo, 'model.safetensors')]: tiny.safetensorsBytes,
    });
    const cache = new MemoryCache();
    const w = await downloadGpt2('distilgpt2', { fetch: hub.fetch, cache });
    expect(w.config).toEqual(tiny.config);
    await downloadGpt2('distilgpt2', { fetch: hub.fetch, cache });
    expect(hub.calls).toHaveLength(2); // second time: both files from the cache
    await expect(downloadGpt2({ repo: 'nobody/missing' }, { fetch: hub.fetch, cache })).rejects.toMatchObject({ kind: 'http', status: 404 });
  });

  it('a file that is not a GPT-2 checkpoint is a loader error, not a download error', async () => {
    const { downloadGpt2 } = await import('../../src/models/load.ts');
    const repo = 'x/not-a-model';
    const hub = fakeHub({
      [hubUrl(repo, 'config.json')]: new TextEncoder().encode('{"model_type": "bert", "n_embd": 8}'),
      [hubUrl(repo, 'model.safetensors')]: new Uint8Array(16),
    });
    await expect(downloadGpt2({ repo }, { fetch: hub.fetch, cache: null })).rejects.toThrow(/model_type is "bert"/);
  });
});
