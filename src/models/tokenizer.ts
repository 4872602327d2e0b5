// GPT-2 tokenisation through @huggingface/transformers, built from tokenizer.json + tokenizer_config.json
// objects (no network, no filesystem, no global `env` changes).
//
// NOTE: the library is imported lazily. Its Node build loads onnxruntime-node (and sharp) at import time and
// its web build carries onnxruntime-web; a dynamic import keeps both out of the app's first chunk (Vite
// splits it) and out of any module that never tokenises. The package has no subpath exports, so there is
// no lighter entry point than the package itself.

/** The bundled GPT-2 tokenizer (public/models/gpt2-tokenizer/, built by scripts/build-gpt2-tokenizer.ts). */
export const BUNDLED_TOKENIZER_PATH = 'models/gpt2-tokenizer/';

export interface Tokenizer {
  /** Plain BPE ids; GPT-2 adds no special tokens. */
  encode(text: string): number[];
  decode(ids: ArrayLike<number>): string;
  readonly vocabSize: number;
  /** <|endoftext|> (50256 for GPT-2): the document separator for training text. */
  readonly eosTokenId: number;
}

type TransformersModule = typeof import('@huggingface/transformers');
let lib: Promise<TransformersModule> | null = null;
const transformers = () => (lib ??= import('@huggingface/transformers'));

/**
 * Builds a tokenizer from the two JSON files, choosing the class from tokenizer_config.tokenizer_class
 * the way AutoTokenizer does (a "Fast" suffix is dropped; unknown classes fall back to PreTrainedTokenizer).
 */
export async function tokenizerFromJson(tokenizerJson: unknown, tokenizerConfig: unknown = {}): Promise<Tokenizer> {
  if (tokenizerJson === null || typeof tokenizerJson !== 'object') throw new Error('tokenizer.json must be a JSON object');
  if (tokenizerConfig === null || typeof tokenizerConfig !== 'object') throw new Error('tokenizer_config.json must be a JSON object');
  const mod = await transformers();
  const cfg = tokenizerConfig as Record<string, unknown>;
  const className = typeof cfg.tokenizer_class === 'string' ? cfg.tokenizer_class.replace(/Fast$/, '') : 'PreTrainedTokenizer';
  const candidate = (mod as unknown as Record<string, unknown>)[className];
  const Cls =
    typeof candidate === 'function' && (candidate === mod.PreTrainedTokenizer || candidate.prototype instanceof mod.PreTrainedTokenizer)
      ? (candidate as typeof mod.PreTrainedTokenizer)
      : mod.PreTrainedTokenizer;
  const tok = new Cls(tokenizerJson, cfg);
  const vocabSize = tok.get_vocab() instanceof Map ? (tok.get_vocab() as Map<string, number>).size : Object.keys(tok.get_vocab()).length;
  const eos = tok.eos_token_id;
  if (eos === undefined || eos === null) throw new Error('tokenizer has no eos_token (tokenizer_config.json should name one)');
  return {
    encode: (text) => tok.encode(text, { add_special_tokens: false }),
    decode: (ids) => (ids.length === 0 ? '' : tok.decode(Array.from(ids), { skip_special_tokens: false, clean_up_tokenization_spaces: false })),
    vocabSize,
    eosTokenId: eos,
  };
}

/** Loads tokenizer.json and tokenizer_config.json from a folder URL (the bundled copy by default). */
export async function loadTokenizerFromUrl(baseUrl: string, fetchFn: (url: string) => Promise<Response> = (u) => fetch(u)): Promise<Tokenizer> {
  const base = baseUrl.endsWith('/') ? baseUrl : baseUrl + '/';
  const get = async (file: string) => {
    const res = await fetchFn(base + file);
    if (!res.ok) throw new Error(`could not load ${base + file}: HTTP ${res.status}`);
    return res.json() as Promise<unknown>;
  };
  const [json, config] = await Promise.all([get('tokenizer.json'), get('tokenizer_config.json')]);
  return tokenizerFromJson(json, config);
}

export interface EncodeCorpusOptions {
  /** Approximate characters per chunk (default 64 Ki). */
  chunkChars?: number;
  onProgress?: (charsDone: number, charsTotal: number) => void;
}

/**
 * Tokenises a whole training text into one stream of ids, in chunks so a 1 MB text does not freeze the page
 * (the event loop gets a turn between chunks). Same ids as encoding the text in one go: a chunk only ends
 * where a non-space character meets a whitespace character, and no GPT-2 pre-token spans such a point
 * (every pattern of the pre-tokenizer regex is all-whitespace, or non-space after at most one leading space).
 */
export async function encodeCorpus(tok: Tokenizer, text: string, opts: EncodeCorpusOptions = {}): Promise<Uint32Array> {
  const chunkChars = Math.max(1, opts.chunkChars ?? 65536);
  const parts: number[][] = [];
  let count = 0;
  let start = 0;
  while (start < text.length) {
    let end = Math.min(text.length, start + chunkChars);
    while (end < text.length && !(/\S/.test(text[end - 1]) && /\s/.test(text[end]))) end++;
    const ids = tok.encode(text.slice(start, end));
    parts.push(ids);
    count += ids.length;
    start = end;
    opts.onProgress?.(start, text.length);
    if (start < text.length) await new Promise((r) => setTimeout(r, 0));
  }
  const out = new Uint32Array(count);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
