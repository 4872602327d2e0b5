// Every codec and validator quotes what it echoes (issue 17): a control or bidi character in a link, a
// file or a flag never reaches an error message as it is (it could reorder or hide the message, or move a
// terminal's cursor). Each reader gets untrusted text with such characters in keys and in values; every
// message must be printable ASCII (and the ellipsis of a shortened excerpt).
import { describe, expect, it } from 'vitest';
import { parseFlags } from '../../src/cli/args.ts';
import { GPT2_FIELDS, validateGpt2RunConfig } from '../../src/experiments/gpt2/config.ts';
import { parseSweepResult } from '../../src/experiments/sweep/aggregate.ts';
import { decodeSweepLink, validateSweepSpec } from '../../src/experiments/sweep/spec.ts';
import { validateToyConfig } from '../../src/experiments/toy/config.ts';
import { fromExchange } from '../../src/experiments/toy/data.ts';
import { defaultToyConfig } from '../../src/experiments/toy/config.ts';
import { decodeText } from '../../src/experiments/untrusted.ts';
import { parseGpt2Config } from '../../src/models/gpt2.ts';
import { parseSafetensors } from '../../src/models/safetensors.ts';
import { decodeGpt2Link } from '../../src/state/gpt2Link.ts';
import { decodeLink } from '../../src/state/shareLink.ts';

const NASTY = ['\u202e', '\u2066', '\u0007', '\u001b[31m', '\n', '\r', '\u0000', '\u200f', 'é'];
const PRINTABLE = /^[\x20-\x7e…]*$/;

/** The error of a reader that returns {ok, error} or throws. */
function errorOf(read: () => unknown): string | null {
  try {
    const r = read() as { ok?: boolean; error?: string } | undefined;
    return r && r.ok === false ? r.error! : null;
  } catch (e) {
    return (e as Error).message;
  }
}

const readers: Record<string, (bad: string) => Array<() => unknown>> = {
  'toy link': (b) => [() => decodeLink(`v=1&${b}=1`), () => decodeLink(`v=1&n=${encodeURIComponent(b)}`), () => decodeLink(`v=1&run=${encodeURIComponent(b)}:1`), () => decodeLink(`v=${encodeURIComponent(b)}`), () => decodeLink(`${encodeURIComponent(b)}`)],
  'sweep link': (b) => [() => decodeSweepLink(`sweep=1&kind=lr-width&${b}=1`), () => decodeSweepLink(`sweep=1&kind=lr-width&x.n=${encodeURIComponent(b)}&x.eta=1e-3`), () => decodeSweepLink(`sweep=1&kind=${encodeURIComponent(b)}`), () => decodeSweepLink(`sweep=1&${b}`), () => decodeSweepLink(`sweep=${encodeURIComponent(b)}`)],
  'gpt2 link': (b) => [() => decodeGpt2Link(`gpt2?v=1&${b}=1`), () => decodeGpt2Link(`gpt2?v=1&m=${encodeURIComponent(b)}`), () => decodeGpt2Link(`gpt2?v=1&t=${encodeURIComponent(b)}`), () => decodeGpt2Link(`gpt2?v=1&r=${encodeURIComponent(b)}`)],
  'sweep spec': (b) => [
    () => validateSweepSpec({ version: 1, kind: 'lr-width', [b]: 1, axes: {} }),
    () => validateSweepSpec({ version: b, kind: 'lr-width', axes: {} }),
    () => validateSweepSpec({ version: 1, kind: 'lr-width', base: { [b]: 1 }, axes: {} }),
    () => validateSweepSpec({ version: 1, kind: 'lr-width', axes: { [b]: [1] } }),
    () => validateSweepSpec({ version: 1, kind: 'lr-width', axes: { n: { from: 16, to: 32, count: 2, [b]: 1 }, eta: [b] } }),
  ],
  'toy settings': (b) => [() => validateToyConfig({ [b]: 1 }), () => validateToyConfig({ n: b, init: b })],
  'gpt2 settings': (b) => [() => validateGpt2RunConfig({ [b]: 1 }), () => validateGpt2RunConfig({ targets: [b] }), () => validateGpt2RunConfig({ targets: b })],
  'sweep result': (b) => {
    const spec = { version: 1, kind: 'width-scaling', axes: { n: [16] }, base: { steps: 1 } };
    const run = { index: 0, point: { init: 'A', n: 16, lambda: 1, eta: 1e-3 }, status: 'done', divergedAt: null, steps: 1, stepsToThreshold: null };
    return [
      () => parseSweepResult({ format: b }),
      () => parseSweepResult({ format: 'lora-playground-sweep', version: 1, spec: { ...spec, kind: b }, kind: b, runs: [] }),
      () => parseSweepResult({ format: 'lora-playground-sweep', version: 1, spec, kind: 'width-scaling', runs: [{ ...run, [b]: 1 }] }),
      () => parseSweepResult({ format: 'lora-playground-sweep', version: 1, spec, kind: 'width-scaling', runs: [{ ...run, status: b }] }),
    ];
  },
  'tensor exchange file': (b) => [() => fromExchange({ format: 'lora-playground-tensors', version: b }, defaultToyConfig()), () => fromExchange({ format: b }, defaultToyConfig())],
  'GPT-2 config.json': (b) => [() => parseGpt2Config({ model_type: b }), () => parseGpt2Config({ n_embd: b }), () => parseGpt2Config({ n_embd: 8, n_head: 2, activation_function: b }), () => parseGpt2Config({ n_embd: 8, n_head: 2, layer_norm_epsilon: b })],
  safetensors: (b) => {
    const file = (header: Record<string, unknown>, data = 0) => {
      const h = Buffer.from(JSON.stringify(header));
      const len = Buffer.alloc(8);
      len.writeBigUInt64LE(BigInt(h.length));
      return new Uint8Array(Buffer.concat([len, h, Buffer.alloc(data)]));
    };
    return [
      () => parseSafetensors(file({ [b]: { dtype: 'F32', shape: [1], data_offsets: [0, 8] } }, 4)),
      () => parseSafetensors(file({ x: { dtype: b, shape: [1], data_offsets: [0, 4] } }, 4)),
      () => parseSafetensors(file({ x: { dtype: 'F32', shape: [b], data_offsets: [0, 4] } }, 4)),
      () => parseSafetensors(file({ __metadata__: { [b]: 1 } })),
      () => parseSafetensors(new Uint8Array([...Buffer.from([3, 0, 0, 0, 0, 0, 0, 0]), ...Buffer.from(b.padEnd(3, 'x').slice(0, 3))])),
    ];
  },
  'CLI flags': (b) => [
    () => parseFlags([`--${b}`], GPT2_FIELDS, {}),
    () => parseFlags(['--rank', b], GPT2_FIELDS, {}),
    () => parseFlags([b], GPT2_FIELDS, {}),
    () => parseFlags(['--x', b], GPT2_FIELDS, { x: { kind: 'int', min: 0, max: 1 } }),
    () => parseFlags(['--x', b], GPT2_FIELDS, { x: { kind: 'enum', options: ['a'] } }),
    () => parseFlags(['--x', `/no/${b}/f`], GPT2_FIELDS, { x: { kind: 'file' } }),
  ],
  'text files': (b) => [() => decodeText(new TextEncoder().encode(b === '\u0000' ? b : b.trim() ? '' : b)), () => decodeText(Uint8Array.of(0xff, ...new TextEncoder().encode(b)))],
};

describe('every reader quotes what it echoes', () => {
  for (const [name, cases] of Object.entries(readers)) {
    it(name, () => {
      let refused = 0;
      for (const bad of NASTY) {
        for (const read of cases(bad)) {
          const message = errorOf(read);
          if (message === null) continue;
          refused++;
          expect(message, JSON.stringify(bad)).toMatch(PRINTABLE);
        }
      }
      expect(refused, 'the readers refused the nasty inputs').toBeGreaterThan(NASTY.length);
    });
  }
});
