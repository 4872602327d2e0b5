// Buffer helpers. Storage buffers hold f32 tensors; sizes are padded to 4 bytes and never zero
// (a zero-sized binding is a validation error, and rank-0 tensors do not exist here).

export const STORAGE = () => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

export function storageBuffer(device: GPUDevice, label: string, floatsOrData: number | Float32Array | Uint32Array): GPUBuffer {
  const data = typeof floatsOrData === 'number' ? undefined : floatsOrData;
  const floats = typeof floatsOrData === 'number' ? floatsOrData : floatsOrData.length;
  const size = Math.max(16, Math.ceil((floats * 4) / 16) * 16);
  const buffer = device.createBuffer({ label, size, usage: STORAGE(), mappedAtCreation: !!data });
  if (data) {
    const Ctor = data instanceof Uint32Array ? Uint32Array : Float32Array;
    new Ctor(buffer.getMappedRange()).set(data);
    buffer.unmap();
  }
  return buffer;
}

/** A uniform buffer written once: values are packed as given (f32 or u32 per field, 4 bytes each). */
export function uniformBuffer(device: GPUDevice, label: string, fields: Array<['f32' | 'u32' | 'i32', number]>): GPUBuffer {
  const bytes = Math.max(16, Math.ceil((fields.length * 4) / 16) * 16);
  const ab = new ArrayBuffer(bytes);
  const view = new DataView(ab);
  fields.forEach(([type, value], i) => {
    if (type === 'f32') view.setFloat32(i * 4, value, true);
    else if (type === 'u32') view.setUint32(i * 4, value >>> 0, true);
    else view.setInt32(i * 4, value | 0, true);
  });
  const buffer = device.createBuffer({ label, size: bytes, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(buffer, 0, ab);
  return buffer;
}

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
