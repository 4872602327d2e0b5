// The page's one GPU device, shared by the Playground, Experiments and GPT-2 tabs through one GpuHost
// (src/gpu/host.ts): their runs take turns on it step by step. What the page shows about the device lives
// in gpuStore. When the device is lost, the runs it held are marked lost (their traces kept), a fresh
// device is opened at once, and the tabs start their queued work on it; if no fresh device can be had,
// the run bar offers Reconnect.
import { createGpuContext, WebGpuUnavailableError, type GpuContext } from '../gpu/device.ts';
import { GpuHost } from '../gpu/host.ts';
import { useGpuStore } from './gpuStore.ts';
import { useUiStore } from './uiStore.ts';

export const pageHost = new GpuHost(() => createGpuContext(globalThis.navigator?.gpu));

const readyListeners = new Set<(ctx: GpuContext) => void>();

/** Called whenever a device becomes ready (at start and after a loss): tabs start their queued work. */
export function onGpuReady(fn: (ctx: GpuContext) => void): () => void {
  readyListeners.add(fn);
  return () => readyListeners.delete(fn);
}

/** The device if one is ready now. */
export function currentGpu(): GpuContext | null {
  return pageHost.current;
}

/** Probe WebGPU (at start, again after a loss or on Reconnect). Never throws. */
export async function initGpu(gpu: GPU | undefined = globalThis.navigator?.gpu): Promise<void> {
  const store = useGpuStore.getState();
  if (!gpu) {
    const insecure = globalThis.isSecureContext === false;
    store.set({ status: 'unavailable', reason: insecure ? 'insecure' : 'no-api', message: insecure ? 'This page was not opened over https or from localhost, and browsers offer WebGPU only to secure pages.' : 'This browser does not offer WebGPU (navigator.gpu is missing).' });
    return;
  }
  if (store.status !== 'lost') store.set({ status: 'probing', message: undefined, reason: undefined });
  try {
    const c = await pageHost.context();
    store.set({ status: 'ready', adapterName: c.adapterName, isSoftware: c.isSoftware, message: undefined });
    for (const fn of [...readyListeners]) fn(c);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    if (useGpuStore.getState().status === 'lost') return store.set({ message }); // stays 'lost': Reconnect tries again
    store.set({ status: 'unavailable', reason: e instanceof WebGpuUnavailableError ? 'no-adapter' : 'device-failed', message });
  }
}

pageHost.onLost((info) => {
  useGpuStore.getState().set({ status: 'lost', message: info.message });
  useUiStore.getState().setNotice({ kind: 'error', text: `The GPU device was lost (${info.message}). The runs it was training stopped with their traces kept; queued work continues on a fresh device.` });
  void initGpu();
});

/** After a lost device that could not be replaced at once: try again. */
export function reconnectGpu(): Promise<void> {
  return initGpu();
}

// A GPU error outside an error scope: the runs on the device stop with it (run/session.ts); the console
// keeps the record (the browser would have printed it there; the host prevents that default).
pageHost.onError((error) => console.error(error.message));
