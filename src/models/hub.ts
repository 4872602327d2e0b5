// Downloads from the Hugging Face hub with streaming progress and Cache API caching.
//
// The cache is the one transformers.js uses: bucket "transformers-cache", keyed by the full resolve URL
// (https://huggingface.co/{repo}/resolve/{revision}/{file}), with content-length set on the stored
// response. So a file fetched by either library is a cache hit for the other.
// NOTE: only complete, length-verified bodies are put in the cache, and a cached entry whose body does not
// match its own content-length is deleted and fetched again: an interrupted download never poisons it.

export const HUB_HOST = 'https://huggingface.co';
/** transformers.js's `env.cacheKey` default (src/env.js), opened with `caches.open` in src/utils/cache.js. */
export const TRANSFORMERS_CACHE_NAME = 'transformers-cache';

export function hubUrl(repo: string, file: string, revision = 'main'): string {
  return `${HUB_HOST}/${repo}/resolve/${encodeURIComponent(revision)}/${file}`;
}

/** The part of the Cache API this module uses (window.caches.open(...) satisfies it). */
export interface CacheLike {
  match(url: string): Promise<Response | undefined>;
  put(url: string, response: Response): Promise<void>;
  delete(url: string): Promise<boolean>;
}

export type FetchLike = (url: string, init?: { signal?: AbortSignal }) => Promise<Response>;

/** An in-memory CacheLike (Node, tests, or a browser without Cache API access). */
export class MemoryCache implements CacheLike {
  readonly entries = new Map<string, { body: Uint8Array<ArrayBuffer>; headers: [string, string][] }>();
  async match(url: string): Promise<Response | undefined> {
    const e = this.entries.get(url);
    return e ? new Response(e.body.slice(), { headers: e.headers }) : undefined;
  }
  async put(url: string, response: Response): Promise<void> {
    const body = new Uint8Array(await response.arrayBuffer());
    this.entries.set(url, { body, headers: [...response.headers.entries()] });
  }
  async delete(url: string): Promise<boolean> {
    return this.entries.delete(url);
  }
}

/** The transformers.js bucket, or null where the Cache API is missing or refused (private mode, opaque origins). */
export async function openBrowserCache(): Promise<CacheLike | null> {
  if (typeof caches === 'undefined') return null;
  try {
    return await caches.open(TRANSFORMERS_CACHE_NAME);
  } catch {
    return null;
  }
}

export type HubErrorKind = 'network' | 'http' | 'incomplete' | 'aborted';

export class HubError extends Error {
  constructor(
    message: string,
    readonly kind: HubErrorKind,
    readonly url: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'HubError';
  }
}

export interface FileProgress {
  file: string;
  url: string;
  status: 'pending' | 'downloading' | 'done' | 'error';
  fromCache: boolean;
  loaded: number;
  /** From content-length; null when the server does not say. */
  total: number | null;
  /** Over the last ~2 s of this file's transfer (0 until two samples exist). */
  bytesPerSecond: number;
  error?: string;
}

export interface DownloadOptions {
  fetch?: FetchLike;
  /** null disables caching; undefined opens the browser's transformers.js bucket when there is one. */
  cache?: CacheLike | null;
  signal?: AbortSignal;
  onProgress?: (p: FileProgress) => void;
  /** Clock in ms (injectable for tests). */
  now?: () => number;
  /** Called when the cache cannot store a file (quota); the download itself still succeeds. */
  onCacheWarning?: (message: string) => void;
}

const SPEED_WINDOW_MS = 2000;

function describeHttp(status: number, url: string, file: string): string {
  const base = `Downloading ${file} failed: HTTP ${status} from ${url}.`;
  if (status === 401 || status === 403) return `${base} The repository is private or gated (needs a login this app does not have).`;
  if (status === 404) return `${base} The file or model does not exist on the hub (check the model id).`;
  if (status === 429) return `${base} The hub is rate-limiting requests; wait a minute and try again.`;
  if (status >= 500) return `${base} The hub is having trouble; try again later.`;
  return base;
}

function contentLength(res: Response): number | null {
  // A compressed body's content-length counts encoded bytes, not the bytes the stream yields.
  const enc = res.headers.get('content-encoding');
  if (enc && enc !== 'identity') return null;
  const v = res.headers.get('content-length');
  if (v === null || !/^\d+$/.test(v.trim())) return null;
  return Number(v);
}

/**
 * Reads a body to the end, reporting progress; throws HubError('incomplete') if its length differs from `total`.
 * With a known total the bytes land in one preallocated buffer (peak memory ~1x the file, not 2x).
 */
async function readBody(res: Response, p: FileProgress, opts: DownloadOptions, now: () => number): Promise<Uint8Array<ArrayBuffer>> {
  const cancelled = () => new HubError(`Download of ${p.file} was cancelled.`, 'aborted', p.url);
  const wrongLength = (n: number) => new HubError(`Download of ${p.file} is incomplete: received ${n} of ${p.total} bytes.`, 'incomplete', p.url);
  const fixed = p.total !== null ? new Uint8Array(p.total) : null;
  const chunks: Uint8Array[] = [];
  const samples: Array<[number, number]> = [[now(), 0]];
  opts.onProgress?.({ ...p });
  if (res.body) {
    const reader = res.body.getReader();
    for (;;) {
      if (opts.signal?.aborted) {
        await reader.cancel().catch(() => {});
        throw cancelled();
      }
      let step: ReadableStreamReadResult<Uint8Array>;
      try {
        step = await reader.read();
      } catch (e) {
        if (opts.signal?.aborted) throw cancelled();
        throw new HubError(`The connection dropped while downloading ${p.file} (${p.loaded} bytes received): ${(e as Error).message ?? e}`, 'network', p.url);
      }
      if (step.done) break;
      const chunk = step.value;
      if (fixed) {
        if (p.loaded + chunk.byteLength > fixed.byteLength) {
          await reader.cancel().catch(() => {});
          throw wrongLength(p.loaded + chunk.byteLength);
        }
        fixed.set(chunk, p.loaded);
      } else chunks.push(chunk);
      p.loaded += chunk.byteLength;
      const t = now();
      samples.push([t, p.loaded]);
      while (samples.length > 2 && t - samples[1][0] >= SPEED_WINDOW_MS) samples.shift();
      const [t0, b0] = samples[0];
      p.bytesPerSecond = t > t0 ? ((p.loaded - b0) * 1000) / (t - t0) : 0;
      opts.onProgress?.({ ...p });
    }
  }
  if (fixed) {
    if (p.loaded !== fixed.byteLength) throw wrongLength(p.loaded);
    return fixed;
  }
  const out = new Uint8Array(p.loaded);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/**
 * Fetches one URL (cache first). Returns the bytes; throws HubError with a message for the user on
 * network failure, HTTP errors, a short body, or cancellation.
 */
export async function downloadUrl(url: string, file: string, opts: DownloadOptions = {}): Promise<{ bytes: Uint8Array<ArrayBuffer>; fromCache: boolean }> {
  const now = opts.now ?? (() => performance.now());
  const fetchFn: FetchLike = opts.fetch ?? ((u, init) => fetch(u, init));
  const cache = opts.cache === undefined ? await openBrowserCache() : opts.cache;
  const p: FileProgress = { file, url, status: 'downloading', fromCache: false, loaded: 0, total: null, bytesPerSecond: 0 };

  try {
    if (cache) {
      let hit: Response | undefined;
      try {
        hit = await cache.match(url);
      } catch {
        hit = undefined; // an unreadable cache is a miss
      }
      if (hit) {
        p.fromCache = true;
        p.total = contentLength(hit);
        try {
          const bytes = await readBody(hit, p, opts, now);
          p.status = 'done';
          opts.onProgress?.({ ...p });
          return { bytes, fromCache: true };
        } catch (e) {
          if (e instanceof HubError && e.kind === 'aborted') throw e;
          await cache.delete(url).catch(() => false); // corrupt entry: drop it and download afresh
          Object.assign(p, { fromCache: false, loaded: 0, total: null, bytesPerSecond: 0 });
        }
      }
    }

    if (opts.signal?.aborted) throw new HubError(`Download of ${file} was cancelled.`, 'aborted', url);
    let res: Response;
    try {
      res = await fetchFn(url, { signal: opts.signal });
    } catch (e) {
      if (opts.signal?.aborted) throw new HubError(`Download of ${file} was cancelled.`, 'aborted', url);
      throw new HubError(
        `Could not reach the Hugging Face hub to download ${file} (${(e as Error).message ?? e}). Check the network connection, or whether huggingface.co is blocked here.`,
        'network',
        url,
      );
    }
    if (!res.ok) throw new HubError(describeHttp(res.status, url, file), 'http', url, res.status);
    p.total = contentLength(res);
    const bytes = await readBody(res, p, opts, now);

    if (cache) {
      const headers = new Headers();
      headers.set('content-type', res.headers.get('content-type') ?? 'application/octet-stream');
      headers.set('content-length', String(bytes.byteLength));
      const etag = res.headers.get('etag');
      if (etag) headers.set('etag', etag);
      try {
        await cache.put(url, new Response(bytes, { status: 200, headers })); // Response copies the bytes
      } catch (e) {
        opts.onCacheWarning?.(`Could not cache ${file} (${(e as Error).message ?? e}); it will be downloaded again next time.`);
      }
    }
    p.status = 'done';
    opts.onProgress?.({ ...p });
    return { bytes, fromCache: false };
  } catch (e) {
    p.status = 'error';
    p.error = (e as Error).message;
    opts.onProgress?.({ ...p });
    throw e;
  }
}

export interface RepoDownloadOptions extends DownloadOptions {
  revision?: string;
}

/** Downloads files of a hub repo one after another; progress reports the file it concerns. */
export async function downloadRepoFiles(repo: string, files: readonly string[], opts: RepoDownloadOptions = {}): Promise<Map<string, Uint8Array>> {
  const cache = opts.cache === undefined ? await openBrowserCache() : opts.cache;
  for (const file of files) {
    opts.onProgress?.({ file, url: hubUrl(repo, file, opts.revision), status: 'pending', fromCache: false, loaded: 0, total: null, bytesPerSecond: 0 });
  }
  const out = new Map<string, Uint8Array>();
  for (const file of files) {
    const { bytes } = await downloadUrl(hubUrl(repo, file, opts.revision), file, { ...opts, cache });
    out.set(file, bytes);
  }
  return out;
}

/** Sums per-file progress for an overall bar (total is null while any file's size is unknown). */
export function overallProgress(files: Iterable<FileProgress>): { loaded: number; total: number | null; bytesPerSecond: number } {
  let loaded = 0;
  let total: number | null = 0;
  let speed = 0;
  for (const f of files) {
    loaded += f.loaded;
    total = total === null || f.total === null ? null : total + f.total;
    if (f.status === 'downloading' && !f.fromCache) speed += f.bytesPerSecond;
  }
  return { loaded, total, bytesPerSecond: speed };
}
