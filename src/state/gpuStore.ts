// Where the page stands with WebGPU: probing at start, ready, unavailable (the no-WebGPU page) or lost.
import { create } from 'zustand';

export type GpuStatus = 'probing' | 'ready' | 'unavailable' | 'lost';

/** Why WebGPU is missing, which decides what the no-WebGPU page advises. */
export type UnavailableReason = 'no-api' | 'insecure' | 'no-adapter' | 'device-failed';

export interface GpuState {
  status: GpuStatus;
  adapterName: string;
  isSoftware: boolean;
  reason?: UnavailableReason;
  message?: string;
  set(patch: Partial<Omit<GpuState, 'set'>>): void;
}

export const useGpuStore = create<GpuState>()((set) => ({
  status: 'probing',
  adapterName: '',
  isSoftware: false,
  set: (patch) => set(patch),
}));
