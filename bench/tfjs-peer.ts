// The peer: TensorFlow.js's WebGPU backend on the same GPUDevice as ours (same adapter, same queue), for the
// same matmul shapes and the same toy training loop (Adam, batch 100, hidden width n, output 1).
// A devDependency used only here.
//
// NOTE: TF.js keeps a compute pass open across ops and submits every WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE
// dispatches; `sync` ends that pass and submits before waiting on the queue, or the wait returns before
// TF.js's work has even been submitted (and timings come out bogus).
import type * as TF from '@tensorflow/tfjs-core';
import type { ToyConfig } from '../src/experiments/toy/config.ts';
import type { ToyTensors } from '../src/experiments/toy/data.ts';

type Tf = typeof TF;
export type TfjsModule = typeof import('./tfjs-entry.ts');

export interface PeerMatmul {
  /** Run the product `reps` times and wait for the GPU. */
  run(reps: number): Promise<void>;
  /** The output of the last run (row-major M x N). */
  read(): Promise<Float32Array>;
  dispose(): void;
}

export interface PeerToy {
  /** `steps` training steps, then wait for the GPU. Returns the JS time spent issuing them (ms). */
  run(steps: number): Promise<number>;
  loss(): Promise<number>;
  dispose(): void;
}

interface WebGpuBackendLike {
  endComputePassEncoder(): void;
  submitQueue(): void;
  commandEncoder: GPUCommandEncoder | null;
}

export class TfjsPeer {
  readonly name: string;

  private constructor(
    private readonly tf: Tf,
    private readonly backend: WebGpuBackendLike,
    private readonly device: GPUDevice,
  ) {
    this.name = `TF.js-WebGPU ${tf.version_core}`;
  }

  /**
   * Registers TF.js's WebGPU backend on `device` (our device: the same adapter by construction). `load`
   * gives the module of bench/tfjs-entry.ts.
   */
  static async create(device: GPUDevice, load: () => Promise<TfjsModule>): Promise<TfjsPeer> {
    // The backend's constructor refuses to run without navigator.gpu (absent in Node before 21); it never
    // uses it when handed a device, so a marker object is enough there.
    const g = globalThis as { navigator?: { gpu?: unknown } };
    if (!g.navigator) Object.defineProperty(globalThis, 'navigator', { value: {}, configurable: true, writable: true });
    if (!g.navigator!.gpu) Object.defineProperty(g.navigator!, 'gpu', { value: { shared: 'device handed to WebGPUBackend' }, configurable: true });
    const { tf, WebGPUBackend } = await load();
    const Backend = WebGPUBackend as unknown as new (d: GPUDevice, info?: unknown) => TF.KernelBackend & WebGpuBackendLike;
    const backend = new Backend(device, (device as { adapterInfo?: unknown }).adapterInfo);
    // Kernels are registered under 'webgpu'; replace the default factory (which would open its own device).
    if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
    tf.registerBackend('webgpu', () => backend, 100);
    if (!(await tf.setBackend('webgpu'))) throw new Error('TF.js could not initialise its WebGPU backend');
    return new TfjsPeer(tf, backend, device);
  }

  async sync(): Promise<void> {
    this.backend.endComputePassEncoder();
    if (this.backend.commandEncoder) this.backend.submitQueue();
    await this.device.queue.onSubmittedWorkDone();
  }

  matmul(s: { M: number; N: number; K: number; a: Float32Array; b: Float32Array; transA?: boolean; transB?: boolean }): PeerMatmul {
    const tf = this.tf;
    const a = tf.tensor2d(s.a, s.transA ? [s.K, s.M] : [s.M, s.K]);
    const b = tf.tensor2d(s.b, s.transB ? [s.N, s.K] : [s.K, s.N]);
    let out: TF.Tensor | undefined;
    return {
      run: async (reps) => {
        out?.dispose();
        out = tf.tidy(() => {
          let c = tf.matMul(a, b, s.transA, s.transB);
          for (let i = 1; i < reps; i++) {
            c.dispose();
            c = tf.matMul(a, b, s.transA, s.transB);
          }
          return c;
        });
        await this.sync();
      },
      read: async () => (await out!.data()) as Float32Array,
      dispose: () => {
        out?.dispose();
        a.dispose();
        b.dispose();
      },
    };
  }

  /**
   * The toy step of src/experiments/toy.ts in TF.js: H1 = relu(X W_in^T) once; per step a batch of rows of
   * H1 by a per-epoch permutation, P2 = H1 W0^T + s (H1 A^T) B^T, y = relu(P2) W_out^T,
   * L = sum((y - y*)^2) / (2m), Adam on A and B. (Ours also computes its five norms every step.)
   */
  toy(c: ToyConfig, t: ToyTensors): PeerToy {
    const tf = this.tf;
    const { n, d, rank } = t;
    if (c.activation !== 'relu') throw new Error('the TF.js toy peer implements the ReLU network only');
    const N = t.X_train.length / d;
    const m = c.batch === 0 || c.batch >= N ? N : c.batch;
    const stepsPerEpoch = Math.floor(N / m);
    const s = c.rslora ? c.alpha / Math.sqrt(c.rank) : c.alpha / c.rank;
    const W0 = tf.tensor2d(t.W0, [n, n]);
    const Wout = tf.tensor2d(t.W_out, [1, n]);
    const H1 = tf.tidy(() => tf.relu(tf.matMul(tf.tensor2d(t.X_train, [N, d]), tf.tensor2d(t.W_in, [n, d]), false, true)));
    const Y = tf.tensor2d(t.Y_train!, [N, 1]);
    const A = tf.variable(tf.tensor2d(t.A, [rank, n]), true, 'A');
    const B = tf.variable(tf.tensor2d(t.B, [n, rank]), true, 'B');
    const opt = tf.train.adam(c.eta, c.beta1, c.beta2, c.eps);
    let perm: TF.Tensor1D | undefined;
    let step = 0;
    let seed = c.seed >>> 0;
    const shuffle = () => {
      // A fresh permutation per epoch, uploaded once per epoch (ours does the same with its own stream).
      const p = Int32Array.from({ length: N }, (_, i) => i);
      for (let i = N - 1; i > 0; i--) {
        seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
        const j = seed % (i + 1);
        [p[i], p[j]] = [p[j], p[i]];
      }
      perm?.dispose();
      perm = tf.tensor1d(p, 'int32');
    };
    let lastLoss: TF.Scalar | null = null;
    const oneStep = () => {
      if (step % stepsPerEpoch === 0) shuffle();
      const offset = (step % stepsPerEpoch) * m;
      step++;
      lastLoss?.dispose();
      lastLoss = opt.minimize(() => {
        const idx = tf.slice(perm!, [offset], [m]);
        const h = tf.gather(H1, idx);
        const zA = tf.matMul(h, A, false, true);
        const p2 = tf.add(tf.matMul(h, W0, false, true), tf.mul(tf.matMul(zA, B, false, true), s));
        const y = tf.matMul(tf.relu(p2), Wout, false, true);
        const r = tf.sub(y, tf.gather(Y, idx));
        return tf.div(tf.sum(tf.square(r)), 2 * m) as TF.Scalar;
      }, true, [A, B]);
    };
    return {
      run: async (steps) => {
        const t0 = performance.now();
        for (let i = 0; i < steps; i++) oneStep();
        const issued = performance.now() - t0;
        await this.sync();
        return issued;
      },
      loss: async () => (lastLoss ? (await lastLoss.data())[0] : NaN),
      dispose: () => {
        lastLoss?.dispose();
        perm?.dispose();
        opt.dispose();
        for (const x of [W0, Wout, H1, Y, A, B]) x.dispose();
      },
    };
  }
}
