// Node entry to WebGPU through Dawn (the `webgpu` npm package). Browser code never imports this file.
// Without a hardware Vulkan driver, falls back to Chromium's SwiftShader ICD. Says which adapter it chose in
// one line on stderr ("[webgpu] adapter: ..."), once per process.
import { existsSync } from 'node:fs';
import { GpuHost } from './host.ts';
import { createGpuContext, WebGpuUnavailableError, type GpuContext } from './device.ts';
import { throttleDawnPolling } from './nodeWait.ts';

const SWIFTSHADER_ICDS = ['/usr/lib/chromium/vk_swiftshader_icd.json', '/usr/lib/chromium-browser/vk_swiftshader_icd.json'];

// Dawn quantizes timestamp queries (to 2^16 ns) unless this toggle is off; the profiler needs real durations.
const DAWN_OPTIONS = ['backend=vulkan', 'disable-dawn-features=timestamp_quantization'];

let cached: Promise<GpuContext> | undefined;
// NOTE: the Dawn instance must outlive every device made from it: if it is garbage-collected, Dawn's
// event processing touches freed memory and the process dies. Keep it here for the process's lifetime.
let instance: GPU | undefined;

/**
 * The process-wide Node GPU context (Dawn instances are expensive; one per process): the first device of
 * the process-wide host, so that GPU errors raised on it outside an error scope always reach the host.
 */
export function nodeGpuContext(): Promise<GpuContext> {
  cached ??= nodeGpuHost().context();
  return cached;
}

let host: GpuHost | undefined;

/**
 * The process-wide GpuHost (host.ts): the shared context first; after a loss, a fresh device from a
 * fresh adapter of the same Dawn instance.
 */
export function nodeGpuHost(): GpuHost {
  host ??= new GpuHost(() => (host!.devicesOpened === 0 ? open() : openFresh()));
  return host;
}

/** A new device of its own (tests that destroy a device; the host after a loss). */
export async function openFresh(): Promise<GpuContext> {
  await nodeGpuContext(); // the instance and the adapter choice (SwiftShader fallback) are made once
  return createGpuContext(instance);
}

async function open(): Promise<GpuContext> {
  process.env.XDG_RUNTIME_DIR ??= '/tmp'; // Dawn's Vulkan loader complains loudly without it
  throttleDawnPolling();
  const { create, globals } = await import('webgpu');
  // WebGPU's enum-like globals (GPUBufferUsage, GPUMapMode, ...) are browser globals; Dawn provides them.
  Object.assign(globalThis, globals);
  let fallback = '';
  let gpu = create(DAWN_OPTIONS);
  let adapter = await gpu.requestAdapter();
  if (!adapter && !process.env.VK_ICD_FILENAMES) {
    const icd = SWIFTSHADER_ICDS.find((p) => existsSync(p));
    if (!icd) {
      throw new WebGpuUnavailableError(
        'No Vulkan adapter found and no SwiftShader ICD to fall back to. Install Debian\'s chromium (apt-get install -y chromium libvulkan1).',
      );
    }
    fallback = ` (no hardware adapter; SwiftShader from ${icd})`;
    process.env.VK_ICD_FILENAMES = icd;
    gpu = create(DAWN_OPTIONS);
    adapter = await gpu.requestAdapter();
  }
  if (!adapter) throw new WebGpuUnavailableError('Dawn found no WebGPU adapter.');
  instance = gpu;
  const ctx = await createGpuContext(instance);
  process.stderr.write(`[webgpu] adapter: ${ctx.adapterName}${fallback}\n`);
  return ctx;
}
