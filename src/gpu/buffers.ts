// Reading and writing buffers from the CPU. Buffers are made through a GpuArena (arena.ts), their owner.

/** Reads a buffer back (tests, exports, end of run; never per training step). */
export async function readFloats(device: GPUDevice, src: GPUBuffer, floats: number, offsetFloats = 0): Promise<Float32Array> {
  const size = Math.ceil((floats * 4) / 4) * 4;
  const staging = device.createBuffer({ label: 'readback', size: Math.max(4, size), usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const enc = device.createCommandEncoder({ label: 'readback' });
  enc.copyBufferToBuffer(src, offsetFloats * 4, staging, 0, size);
  device.queue.submit([enc.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const out = new Float32Array(staging.getMappedRange().slice(0, floats * 4));
  staging.unmap();
  staging.destroy();
  return out;
}

export function writeFloats(device: GPUDevice, dst: GPUBuffer, data: Float32Array, offsetFloats = 0): void {
  device.queue.writeBuffer(dst, offsetFloats * 4, data.buffer, data.byteOffset, data.byteLength);
}
