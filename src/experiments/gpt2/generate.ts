// Sample generations from a prompt with the current adapters: greedy (temperature 0) or temperature
// sampling with optional top-k. One sequence, context window T (the run's sequence length): each new token
// is one forward over the window (no KV cache: causal attention makes the padding after the last real token
// irrelevant), then the LM head on that one row and a readback of its V logits for sampling on the CPU.
import type { GpuArena } from '../../gpu/arena.ts';
import type { LogitChunk } from '../../gpu/kernels/softmaxXent.ts';
import { encodePass, type Dispatch } from '../../gpu/pipelines.ts';
import { Stream } from '../rng.ts';
import { allocGraph, forward, lmHead, type GraphBuffers } from './graph.ts';
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

export class Generator {
  private readonly graph: GraphBuffers;
  private readonly tokens: GPUBuffer;
  private readonly lastRow: GPUBuffer;
  private readonly logits: LogitChunk[];
  private readonly staging: GPUBuffer;
  private readonly body: Dispatch[];
  private readonly head: Dispatch[];
  readonly window: number;

  private readonly device: GPUDevice;

  /** Allocates the generation buffers in `arena` (the run's, so they are freed with it). */
  constructor(
    arena: GpuArena,
    private readonly model: FrozenGpt2,
    adapters: readonly Adapter[],
    window: number,
  ) {
    const c = model.config;
    this.device = arena.device;
    this.window = window;
    this.graph = allocGraph(arena, model, adapters, 1, window, true);
    this.tokens = arena.storage('gen.tokens', new Uint32Array(window));
    this.lastRow = arena.storage('gen.lastRow', c.n_embd);
    this.logits = model.wte.map((ch, i) => ({ v0: ch.v0, cols: ch.rows, logits: arena.storage(`gen.logits[${i}]`, ch.rows) }));
    this.staging = arena.buffer({ label: 'gen.staging', size: Math.ceil((c.vocab_size * 4) / 16) * 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    this.body = forward(arena, model, adapters, this.graph, this.tokens);
    this.head = lmHead(arena, model, 1, this.lastRow, this.logits);
  }

  /** Logits (V) of the next token after `context` (its last `window` tokens are used). */
  async nextLogits(context: readonly number[]): Promise<Float32Array> {
    const c = this.model.config;
    const win = context.slice(-this.window);
    if (win.length === 0) throw new Error('generate: the prompt is empty');
    const ids = new Uint32Array(this.window);
    ids.set(win);
    this.device.queue.writeBuffer(this.tokens, 0, ids.buffer, 0, ids.byteLength);
    const enc = this.device.createCommandEncoder({ label: 'generate' });
    encodePass(enc, this.body, undefined, 'generate.forward');
    enc.copyBufferToBuffer(this.graph.lnf, (win.length - 1) * c.n_embd * 4, this.lastRow, 0, c.n_embd * 4);
    encodePass(enc, this.head, undefined, 'generate.head');
    for (const ch of this.logits) enc.copyBufferToBuffer(ch.logits, 0, this.staging, ch.v0 * 4, ch.cols * 4);
    this.device.queue.submit([enc.finish()]);
    await this.staging.mapAsync(GPUMapMode.READ);
    const out = new Float32Array(this.staging.getMappedRange().slice(0, c.vocab_size * 4));
    this.staging.unmap();
    return out;
  }

  async generate(prompt: readonly number[], opts: GenerateOptions): Promise<number[]> {
    for (const id of prompt) {
      if (!Number.isInteger(id) || id < 0 || id >= this.model.config.vocab_size) throw new Error(`generate: token ${id} is outside the vocabulary`);
    }
    const context = [...prompt];
    const stream = new Stream(opts.seed ?? 1, 'sample');
    const out: number[] = [];
    for (let i = 0; i < opts.maxNewTokens; i++) {
      if (opts.signal?.aborted) break;
      const id = sampleToken(await this.nextLogits(context), opts.temperature ?? 0, opts.topK ?? 0, stream);
      out.push(id);
      context.push(id);
      opts.onToken?.(id);
      if (id === opts.stopAt) break;
    }
    return out;
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
