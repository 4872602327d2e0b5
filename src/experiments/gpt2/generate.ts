// Sample generations from a prompt with the current adapters: greedy (temperature 0) or temperature
// sampling with optional top-k. One sequence, decoded one token at a time with a KV cache: each token is
// one forward of a single row (graph.ts, `decode`), whose attention reads the keys and values of every
// earlier position from the cache instead of recomputing them; prompt tokens run the body only, each new
// token also the LM head on its row and a readback of its V logits for sampling on the CPU.
//
// The window: the cache holds the model's n_positions. When the text outgrows it, the window restarts
// from the last half of the text (windowStart): those tokens are fed again at positions 0.., so a long
// generation recomputes once per n_positions / 2 new tokens, not per token. Without a cache the same
// tokens come from a full forward over the window (tests check both give the same tokens).
import type { GpuArena } from '../../gpu/arena.ts';
import type { LogitChunk } from '../../gpu/kernels/softmaxXent.ts';
import { encodePass, type Dispatch } from '../../gpu/pipelines.ts';
import { Stream } from '../rng.ts';
import { allocGraph, forward, lmHead, type DecodeCache, type GraphBuffers } from './graph.ts';
import type { Adapter, FrozenGpt2 } from './model.ts';

export interface GenerateOptions {
  maxNewTokens: number;
  /** 0 = greedy (argmax); otherwise logits / temperature are sampled. */
  temperature?: number;
  /** Sample among the k most likely tokens only (0 or absent: all). */
  topK?: number;
  seed?: number;
  /** Called with each new token id as soon as it is chosen (for live display). */
  onToken?: (id: number) => void;
  /** Stop early (e.g. on an end-of-text id). */
  stopAt?: number;
  signal?: AbortSignal;
}

export interface GenerateResult {
  /** The new tokens (the prompt not included). */
  ids: number[];
  /** Seconds until the first new token (the prompt through the model), and for the rest. */
  promptSeconds: number;
  seconds: number;
  /** Decoding rate: new tokens after the first per second (the first comes with the prompt). */
  tokensPerSecond: number;
}

/**
 * Where the visible window starts once the text has `length` tokens, given where it started before: it
 * holds at most `positions` tokens; when the text outgrows it, it restarts at the last ceil(positions / 2).
 */
export function windowStart(previous: number, length: number, positions: number): number {
  return length - previous <= positions ? previous : length - Math.ceil(positions / 2);
}

export class Generator {
  private readonly graph: GraphBuffers;
  private readonly token: GPUBuffer;
  private readonly pos: GPUBuffer;
  private readonly logits: LogitChunk[];
  private readonly staging: GPUBuffer;
  private readonly body: Dispatch[];
  private readonly head: Dispatch[];
  private readonly device: GPUDevice;
  /** Positions the cache holds (the model's n_positions). */
  readonly positions: number;

  /** Allocates the generation buffers in `arena` (a child of the run's, so they are freed with it). */
  constructor(
    arena: GpuArena,
    private readonly model: FrozenGpt2,
    adapters: readonly Adapter[],
  ) {
    const c = model.config;
    this.device = arena.device;
    this.positions = c.n_positions;
    this.graph = allocGraph(arena, model, adapters, 1, 1, true);
    this.token = arena.storage('gen.token', new Uint32Array(1));
    this.pos = arena.storage('gen.position', new Uint32Array(1));
    const cache: DecodeCache = {
      pos: this.pos,
      positions: this.positions,
      k: Array.from({ length: c.n_layer }, (_, l) => arena.storage(`gen.h${l}.kcache`, this.positions * c.n_embd)),
      v: Array.from({ length: c.n_layer }, (_, l) => arena.storage(`gen.h${l}.vcache`, this.positions * c.n_embd)),
      scores: arena.storage('gen.scores', c.n_head * this.positions),
    };
    this.logits = model.wte.map((ch, i) => ({ v0: ch.v0, cols: ch.rows, logits: arena.storage(`gen.logits[${i}]`, ch.rows) }));
    this.staging = arena.buffer({ label: 'gen.staging', size: Math.ceil((c.vocab_size * 4) / 16) * 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    this.body = forward(arena, model, adapters, this.graph, this.token, { decode: cache });
    this.head = lmHead(arena, model, 1, this.graph.lnf, this.logits);
  }

  /** Runs token `id` at position `position` through the body (extending the cache); with `head`, its logits into the staging buffer. */
  private feed(id: number, position: number, head: boolean): void {
    const q = this.device.queue;
    q.writeBuffer(this.token, 0, Uint32Array.of(id));
    q.writeBuffer(this.pos, 0, Uint32Array.of(position));
    const enc = this.device.createCommandEncoder({ label: 'generate' });
    encodePass(enc, head ? [...this.body, ...this.head] : this.body, undefined, 'generate');
    if (head) for (const ch of this.logits) enc.copyBufferToBuffer(ch.logits, 0, this.staging, ch.v0 * 4, ch.cols * 4);
    q.submit([enc.finish()]);
  }

  private async readLogits(): Promise<Float32Array> {
    await this.staging.mapAsync(GPUMapMode.READ);
    const out = new Float32Array(this.staging.getMappedRange().slice(0, this.model.config.vocab_size * 4));
    this.staging.unmap();
    return out;
  }

  /** Logits of the token after `window` (fed from position 0): the cache is rebuilt from scratch. */
  private async prefill(window: readonly number[]): Promise<Float32Array> {
    window.forEach((id, i) => this.feed(id, i, i === window.length - 1));
    return this.readLogits();
  }

  async generate(prompt: readonly number[], opts: GenerateOptions): Promise<GenerateResult> {
    if (prompt.length === 0) throw new Error('generate: the prompt is empty');
    for (const id of prompt) {
      if (!Number.isInteger(id) || id < 0 || id >= this.model.config.vocab_size) throw new Error(`generate: token ${id} is outside the vocabulary`);
    }
    const t0 = performance.now();
    const context = [...prompt];
    let start = windowStart(0, context.length, this.positions);
    let logits = await this.prefill(context.slice(start));
    const t1 = performance.now();
    const stream = new Stream(opts.seed ?? 1, 'sample');
    const ids: number[] = [];
    for (let i = 0; i < opts.maxNewTokens; i++) {
      if (opts.signal?.aborted) break;
      const id = sampleToken(logits, opts.temperature ?? 0, opts.topK ?? 0, stream);
      ids.push(id);
      context.push(id);
      opts.onToken?.(id);
      if (id === opts.stopAt || i === opts.maxNewTokens - 1) break;
      const next = windowStart(start, context.length, this.positions);
      if (next !== start) {
        start = next;
        logits = await this.prefill(context.slice(start));
      } else {
        this.feed(id, context.length - 1 - start, true);
        logits = await this.readLogits();
      }
    }
    const seconds = (performance.now() - t1) / 1000;
    const promptSeconds = (t1 - t0) / 1000;
    return { ids, promptSeconds, seconds, tokensPerSecond: ids.length > 1 ? (ids.length - 1) / Math.max(seconds, 1e-9) : ids.length / Math.max(promptSeconds, 1e-9) };
  }
}

/** Greedy argmax at temperature 0; otherwise a draw from softmax(logits / temperature) over the top k. */
export function sampleToken(logits: Float32Array, temperature: number, topK: number, stream: Stream): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
  if (!(temperature > 0)) return best;
  let ids = Array.from(logits.keys());
  if (topK > 0 && topK < ids.length) ids = ids.sort((a, b) => logits[b] - logits[a]).slice(0, topK);
  const m = logits[best];
  const w = ids.map((i) => Math.exp((logits[i] - m) / temperature));
  const total = w.reduce((a, b) => a + b, 0);
  let u = stream.uniform() * total;
  for (let k = 0; k < ids.length; k++) {
    u -= w[k];
    if (u < 0) return ids[k];
  }
  return ids[ids.length - 1];
}
