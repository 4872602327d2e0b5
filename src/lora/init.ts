// LoRA initialisation (lora-math.md section 2). Both schemes start at the pretrained model: B A = 0.
//   Init[A]: B = 0, A random:  A_ij ~ N(0, 1/n_in)  or PEFT's kaiming_uniform(a=sqrt 5) = U(-1/sqrt(n_in), 1/sqrt(n_in))
//   Init[B]: A = 0, B random:  B_ij ~ N(0, 1/r)     or U(-1/sqrt(r), 1/sqrt(r))
import { gaussian, Stream, uniformSym } from '../experiments/rng.ts';

export type InitScheme = 'A' | 'B';
export type InitDist = 'gaussian' | 'uniform';

export interface LoraShape {
  nIn: number;
  nOut: number;
  rank: number;
}

/** A (rank x nIn) and B (nOut x rank), row-major, drawn from the streams "<prefix>A" and "<prefix>B". */
export function initLora(shape: LoraShape, scheme: InitScheme, dist: InitDist, seed: number, prefix = ''): { A: Float32Array; B: Float32Array } {
  const { nIn, nOut, rank } = shape;
  const draw = (name: string, count: number, fanIn: number) => {
    const s = new Stream(seed, prefix + name);
    return dist === 'gaussian' ? gaussian(s, count, 1 / Math.sqrt(fanIn)) : uniformSym(s, count, 1 / Math.sqrt(fanIn));
  };
  if (scheme === 'A') return { A: draw('A', rank * nIn, nIn), B: new Float32Array(nOut * rank) };
  return { A: new Float32Array(rank * nIn), B: draw('B', nOut * rank, rank) };
}
