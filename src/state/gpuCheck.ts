// Runs "Check this GPU" on the page's device (pageGpu.ts): the self-check (src/selfcheck/suite.ts) and the
// short benchmark (src/bench/gpuBench.ts), both loaded on first use, reporting into gpuCheckStore. The
// self-check allocates its own buffers and frees them, so it can run beside training; the benchmark's
// numbers mean something only when nothing else trains, which the view says.
import { adapterReport } from '../selfcheck/adapter.ts';
import { useGpuCheckStore } from './gpuCheckStore.ts';
import { pageHost } from './pageGpu.ts';

const store = () => useGpuCheckStore.getState();
const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

export async function openGpuCheck(): Promise<void> {
  store().set({ open: true });
  try {
    store().set({ adapter: adapterReport(await pageHost.context()) });
  } catch (e) {
    store().set({ error: `No GPU device: ${message(e)}` });
  }
}

export function closeGpuCheck(): void {
  store().set({ open: false });
}

export async function runSelfcheckInPage(): Promise<void> {
  if (store().phase !== 'idle') return;
  store().set({ phase: 'checking', rows: [], total: 0, report: null, error: null });
  try {
    const { runSelfcheck, selfcheckPlan } = await import('../selfcheck/suite.ts');
    store().set({ total: selfcheckPlan().length });
    const report = await runSelfcheck(pageHost, { onProgress: (done, total, row) => store().set({ rows: [...store().rows, row], total }) });
    store().set({ report, adapter: report.adapter, failed: report.checks.filter((c) => !c.pass).map(({ name, family, detail }) => ({ name, family, detail })) });
  } catch (e) {
    store().set({ error: `The self-check could not run: ${message(e)}` });
  } finally {
    store().set({ phase: 'idle' });
  }
}

export async function runBenchmarkInPage(): Promise<void> {
  if (store().phase !== 'idle') return;
  store().set({ phase: 'benchmarking', bench: null, benchStage: { label: 'loading', fraction: 0 }, error: null });
  try {
    const { runGpuBenchmark } = await import('../bench/gpuBench.ts');
    const bench = await runGpuBenchmark(await pageHost.context(), { onProgress: (label, fraction) => store().set({ benchStage: { label, fraction } }) });
    store().set({ bench });
  } catch (e) {
    store().set({ error: `The benchmark could not run: ${message(e)}` });
  } finally {
    store().set({ phase: 'idle', benchStage: null });
  }
}

/** The report to paste into an issue: the self-check, the benchmark (when run) and the browser (non-finite errors as null, as the CLI's). */
export function reportJson(): string {
  const s = store();
  return JSON.stringify({
    adapter: s.report?.adapter ?? s.adapter,
    checks: s.report?.checks ?? s.rows,
    pass: s.report?.pass ?? null,
    seconds: s.report?.seconds,
    benchmark: s.bench,
    userAgent: globalThis.navigator?.userAgent,
    date: new Date().toISOString(),
  }, null, 1);
}
