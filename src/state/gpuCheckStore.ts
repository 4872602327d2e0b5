// "Check this GPU": the self-check and the short benchmark as the page shows them, and the checks that
// failed on this adapter, which the runners consult before training (trainingRefusal).
import { create } from 'zustand';
import type { GpuBenchReport } from '../bench/gpuBench.ts';
import type { AdapterReport } from '../selfcheck/adapter.ts';
import { refusalFor, type Engine } from '../selfcheck/families.ts';
import type { CheckRow, SelfcheckReport } from '../selfcheck/suite.ts';

export type GpuCheckPhase = 'idle' | 'checking' | 'benchmarking';

export interface GpuCheckState {
  open: boolean;
  phase: GpuCheckPhase;
  /** The adapter the view describes (before any check has run). */
  adapter: AdapterReport | null;
  /** Checks done so far of the run in progress (rows arrive one by one). */
  rows: CheckRow[];
  total: number;
  report: SelfcheckReport | null;
  bench: GpuBenchReport | null;
  /** The benchmark stage in progress and the fraction done. */
  benchStage: { label: string; fraction: number } | null;
  error: string | null;
  /** Checks of the last self-check that failed: the engines that use their kernels refuse to train. */
  failed: Array<Pick<CheckRow, 'name' | 'family' | 'detail'>>;
  set(patch: Partial<Omit<GpuCheckState, 'set'>>): void;
}

export const useGpuCheckStore = create<GpuCheckState>()((set) => ({
  open: false,
  phase: 'idle',
  adapter: null,
  rows: [],
  total: 0,
  report: null,
  bench: null,
  benchStage: null,
  error: null,
  failed: [],
  set: (patch) => set(patch),
}));

/** Why `engine` must not train on this adapter (a kernel it uses failed the self-check), or null. */
export function trainingRefusal(engine: Engine): string | null {
  return refusalFor(engine, useGpuCheckStore.getState().failed);
}
