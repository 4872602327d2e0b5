// What the adapter can do at best, measured with shaders/roofline.wgsl, so that each benchmark row can say
// how close it gets: copy bandwidth (a shader copy, and copyBufferToBuffer) and the FMA peak.
import code from '../../shaders/roofline.wgsl?raw';
import { GpuArena } from '../gpu/arena.ts';
import type { GpuContext } from '../gpu/device.ts';
import { bindBuffers, grid1d, pipeline, type Dispatch } from '../gpu/pipelines.ts';
import { dispatchRunner, measure, stat, type MeasurePlan, type Runner, type Stat } from './measure.ts';

const rooflineShader = { name: 'roofline', code };

export interface RooflineResult {
  copyGBs: Stat;
  /** copyBufferToBuffer, for comparison with the shader copy. */
  copyBufferGBs: Stat;
  peakGFLOPs: Stat;
  copyBytes: number;
}

export async function measureRoofline(ctx: GpuContext, plan: MeasurePlan, log: (line: string) => void = () => {}): Promise<RooflineResult> {
  const device = ctx.device;
  const arena = new GpuArena(device, 'bench.roofline');
  try {
    const copyBytes = Math.min(ctx.isSoftware ? 32 << 20 : 256 << 20, ctx.limits.maxStorageBufferBindingSize);
    const vec4s = copyBytes / 16;
    const src = arena.storage('bench.copy.src', vec4s * 4);
    const dst = arena.storage('bench.copy.dst', vec4s * 4);
    const copyPipe = pipeline(device, rooflineShader, 'copy');
    const params = arena.uniform('bench.copy', [['u32', vec4s], ['u32', 0], ['u32', 0], ['u32', 0]]);
    const copy: Dispatch = { label: 'bench.copy', pipeline: copyPipe, bindGroup: bindBuffers(device, copyPipe, 'bench.copy', [params, src, dst]), workgroups: grid1d(Math.ceil(vec4s / 256)) };
    const bufferCopy: Runner = {
      run: async (reps) => {
        const enc = device.createCommandEncoder();
        for (let i = 0; i < reps; i++) enc.copyBufferToBuffer(src, 0, dst, 0, copyBytes);
        device.queue.submit([enc.finish()]);
        await device.queue.onSubmittedWorkDone();
      },
    };
    const iters = ctx.isSoftware ? 256 : 4096;
    const invocations = ctx.isSoftware ? 64 * 256 : 64 * 16384;
    const peakPipe = pipeline(device, rooflineShader, 'peak');
    const peakParams = arena.uniform('bench.peak', [['u32', 0], ['u32', iters], ['u32', 0], ['u32', 0]]);
    const peak: Dispatch = { label: 'bench.peak', pipeline: peakPipe, bindGroup: bindBuffers(device, peakPipe, 'bench.peak', [peakParams, src, dst]), workgroups: grid1d(invocations / 64) };
    const { ms } = await measure([dispatchRunner(device, [copy]), bufferCopy, dispatchRunner(device, [peak])], plan);
    const gbs = (t: Stat) => stat(t.samples.map((x) => (2 * copyBytes) / x / 1e6));
    const peakFlops = 2 * 4 * 8 * iters * invocations;
    const result = { copyGBs: gbs(ms[0]), copyBufferGBs: gbs(ms[1]), peakGFLOPs: stat(ms[2].samples.map((x) => peakFlops / x / 1e6)), copyBytes };
    log(`reference: shader copy ${result.copyGBs.median.toFixed(2)} GB/s, copyBufferToBuffer ${result.copyBufferGBs.median.toFixed(2)} GB/s, FMA peak ${result.peakGFLOPs.median.toFixed(2)} GFLOP/s`);
    return result;
  } finally {
    arena.destroy();
  }
}
