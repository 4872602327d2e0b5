// Pipelines are built once per (shader, entry point, override constants) and cached: the cache key is
// exactly what specialises a kernel. A Dispatch is a ready-to-encode unit (pipeline + bind group + grid),
// built once when a model is set up and replayed every step with no per-step allocation.

export interface Dispatch {
  /** Kernel family and variant, used by the profiler to attribute time, e.g. "matmul.NT". */
  label: string;
  pipeline: GPUComputePipeline;
  bindGroup: GPUBindGroup;
  workgroups: [number, number, number];
}

export type Constants = Record<string, number | boolean>;

const caches = new WeakMap<GPUDevice, Map<string, GPUComputePipeline>>();

export function pipeline(device: GPUDevice, shader: { name: string; code: string }, entryPoint: string, constants: Constants = {}): GPUComputePipeline {
  let cache = caches.get(device);
  if (!cache) caches.set(device, (cache = new Map()));
  const key = `${shader.name}:${entryPoint}:${Object.entries(constants).sort().map(([k, v]) => `${k}=${+v}`).join(',')}`;
  let pipe = cache.get(key);
  if (!pipe) {
    const module = shaderModule(device, shader);
    const numeric: Record<string, number> = {};
    for (const [k, v] of Object.entries(constants)) numeric[k] = +v;
    pipe = device.createComputePipeline({ label: key, layout: 'auto', compute: { module, entryPoint, constants: numeric } });
    cache.set(key, pipe);
  }
  return pipe;
}

const modules = new WeakMap<GPUDevice, Map<string, GPUShaderModule>>();

function shaderModule(device: GPUDevice, shader: { name: string; code: string }): GPUShaderModule {
  let cache = modules.get(device);
  if (!cache) modules.set(device, (cache = new Map()));
  let mod = cache.get(shader.name);
  if (!mod) {
    mod = device.createShaderModule({ label: shader.name, code: shader.code });
    cache.set(shader.name, mod);
  }
  return mod;
}

/** Compile every shader once and throw a readable error (with the shader's name and line) if one fails. */
export async function assertShadersCompile(device: GPUDevice, shaders: Array<{ name: string; code: string }>): Promise<void> {
  for (const s of shaders) {
    const info = await shaderModule(device, s).getCompilationInfo();
    const errors = info.messages.filter((m) => m.type === 'error');
    if (errors.length) {
      throw new Error(`WGSL error in shaders/${s.name}.wgsl: ${errors.map((e) => `line ${e.lineNum}:${e.linePos} ${e.message}`).join('; ')}`);
    }
  }
}

/**
 * Bind buffers to group 0: an array binds at 0..n-1 in order; a record binds at the given numbers (for
 * entry points that use a subset of a module's bindings). Undefined entries are left out.
 */
export function bindBuffers(device: GPUDevice, pipe: GPUComputePipeline, label: string, buffers: ReadonlyArray<GPUBuffer> | Readonly<Record<number, GPUBuffer | undefined>>): GPUBindGroup {
  const entries = Array.isArray(buffers) ? buffers.map((buffer, binding) => [binding, buffer] as const) : Object.entries(buffers).map(([k, b]) => [Number(k), b as GPUBuffer | undefined] as const);
  return device.createBindGroup({
    label,
    layout: pipe.getBindGroupLayout(0),
    entries: entries.filter(([, b]) => b).map(([binding, buffer]) => ({ binding, resource: { buffer: buffer! } })),
  });
}

/** Split a 1-D grid of `groups` workgroups into (x, y) within the per-dimension limit. */
export function grid1d(groups: number, maxPerDim = 65535): [number, number, number] {
  const g = Math.max(1, groups);
  if (g <= maxPerDim) return [g, 1, 1];
  const y = Math.ceil(g / maxPerDim);
  return [Math.ceil(g / y), y, 1];
}

export function encode(pass: GPUComputePassEncoder, dispatches: readonly Dispatch[]): void {
  for (const d of dispatches) {
    pass.setPipeline(d.pipeline);
    pass.setBindGroup(0, d.bindGroup);
    pass.dispatchWorkgroups(d.workgroups[0], d.workgroups[1], d.workgroups[2]);
  }
}

/** Something that records dispatches with per-kernel GPU timing (src/gpu/timing.ts implements it). */
export interface DispatchProfiler {
  encode(encoder: GPUCommandEncoder, dispatches: readonly Dispatch[]): void;
}

/** Records `dispatches` into one compute pass, or into timed passes when a profiler is attached. */
export function encodePass(encoder: GPUCommandEncoder, dispatches: readonly Dispatch[], profiler?: DispatchProfiler, label?: string): void {
  if (profiler) return profiler.encode(encoder, dispatches);
  const pass = encoder.beginComputePass({ label });
  encode(pass, dispatches);
  pass.end();
}
