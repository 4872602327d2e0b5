// One way to get a WebGPU device, given a GPU entry point (navigator.gpu in the browser, Dawn in Node).
// Errors that WebGPU reports asynchronously (validation, out of memory) are turned into thrown errors
// by `checked`, named after what was being built.

export interface GpuContext {
  device: GPUDevice;
  /** Human-readable adapter name, e.g. "google swiftshader" or "nvidia ampere". */
  adapterName: string;
  /** True for CPU/software adapters (SwiftShader), where sizes must stay small. */
  isSoftware: boolean;
  hasTimestamps: boolean;
  /** What the adapter says about itself, for reports (the self-check's header). */
  info: { vendor: string; architecture: string; device: string; description: string };
  /** Features the adapter offers (the device enables only those the engine asks for). */
  features: string[];
  limits: GPUSupportedLimits;
  /** Resolves when the device is lost (never for a healthy device); carries the reason. */
  lost: Promise<GPUDeviceLostInfo>;
}

export class WebGpuUnavailableError extends Error {}

export async function createGpuContext(gpu: GPU | undefined, opts: { powerPreference?: GPUPowerPreference } = {}): Promise<GpuContext> {
  if (!gpu) throw new WebGpuUnavailableError('WebGPU is not available in this environment (navigator.gpu is missing).');
  const adapter = await gpu.requestAdapter({ powerPreference: opts.powerPreference ?? 'high-performance' });
  if (!adapter) throw new WebGpuUnavailableError('WebGPU is present but no adapter was granted (blocklisted GPU or disabled flag).');
  const hasTimestamps = adapter.features.has('timestamp-query');
  // Ask for the adapter's real limits: the defaults (128 MiB bindings) are too small for large widths.
  const want: Record<string, number> = {};
  for (const key of [
    'maxStorageBufferBindingSize',
    'maxBufferSize',
    'maxComputeWorkgroupStorageSize',
    'maxComputeInvocationsPerWorkgroup',
    'maxComputeWorkgroupSizeX',
    'maxComputeWorkgroupSizeY',
    'maxComputeWorkgroupsPerDimension',
    'maxStorageBuffersPerShaderStage',
  ] as const) {
    want[key] = adapter.limits[key];
  }
  const device = await adapter.requestDevice({
    requiredFeatures: hasTimestamps ? ['timestamp-query'] : [],
    requiredLimits: want,
  });
  const info = adapter.info;
  const adapterName = [info?.vendor, info?.architecture || info?.description].filter(Boolean).join(' ') || 'unknown adapter';
  const isSoftware = /swiftshader|llvmpipe|software|cpu/i.test(`${info?.vendor} ${info?.architecture} ${info?.description}`) || (info as { isFallbackAdapter?: boolean })?.isFallbackAdapter === true;
  const about = { vendor: info?.vendor ?? '', architecture: info?.architecture ?? '', device: info?.device ?? '', description: info?.description ?? '' };
  return { device, adapterName, isSoftware, hasTimestamps, info: about, features: [...adapter.features].sort(), limits: device.limits, lost: device.lost };
}

/**
 * Runs `build` inside validation and out-of-memory error scopes and throws the first error, saying what
 * was being done (`what`, e.g. "building the toy model (n = 4096)").
 */
export async function checked<T>(device: GPUDevice, what: string, build: () => T): Promise<T> {
  device.pushErrorScope('out-of-memory');
  device.pushErrorScope('validation');
  let value: T;
  try {
    value = build();
  } finally {
    const validation = await device.popErrorScope();
    const oom = await device.popErrorScope();
    if (oom) throw new GpuError('out-of-memory', `Out of GPU memory ${what}: ${oom.message}`);
    if (validation) throw new GpuError('validation', `WebGPU validation error ${what}: ${validation.message}`);
  }
  return value!;
}

/** An error WebGPU reported (validation or out of memory): a fault, never a result. */
export class GpuError extends Error {
  constructor(
    readonly kind: 'validation' | 'out-of-memory',
    message: string,
  ) {
    super(message);
    this.name = 'GpuError';
  }
}
