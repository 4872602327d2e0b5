// The one owner of GPU memory. Every buffer and query set a trainer (or a check, a benchmark, a
// generation) needs is made through its GpuArena, including those made deep inside kernel wrappers
// (uniforms, split-K partials, Adam moments, Gram scratch), so destroy() frees exactly what was made and
// `bytes` is the real footprint. Child arenas (a batch inside a sweep, the generation buffers inside a
// GPT-2 run) are freed with their parent or on their own.
//
// Destroying right after a submit is safe: WebGPU defers the release until the queued work that uses the
// buffer has finished.

export type UniformField = ['f32' | 'u32' | 'i32', number];

export class GpuArena {
  private readonly buffers = new Set<GPUBuffer>();
  private readonly querySets = new Set<GPUQuerySet>();
  private readonly children = new Set<GpuArena>();
  private destroyed = false;

  constructor(
    readonly device: GPUDevice,
    readonly label: string,
    private readonly parent?: GpuArena,
  ) {
    parent?.children.add(this);
  }

  /** An arena whose resources are freed with this one, or earlier by its own destroy(). */
  child(label: string): GpuArena {
    this.assertLive();
    return new GpuArena(this.device, `${this.label}/${label}`, this);
  }

  buffer(descriptor: GPUBufferDescriptor): GPUBuffer {
    this.assertLive();
    const b = this.device.createBuffer(descriptor);
    this.buffers.add(b);
    return b;
  }

  /**
   * A storage buffer of f32/u32 values (zeroed, or holding `data`), readable and writable by copies.
   * Sizes are padded to 16 bytes and never zero: a zero-sized binding is a validation error, and the
   * matmul kernel reads its operands as vec4.
   */
  storage(label: string, floatsOrData: number | Float32Array | Uint32Array): GPUBuffer {
    const data = typeof floatsOrData === 'number' ? undefined : floatsOrData;
    const floats = typeof floatsOrData === 'number' ? floatsOrData : floatsOrData.length;
    const size = Math.max(16, Math.ceil((floats * 4) / 16) * 16);
    const b = this.buffer({ label, size, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST, mappedAtCreation: !!data });
    if (data) {
      const Ctor = data instanceof Uint32Array ? Uint32Array : Float32Array;
      new Ctor(b.getMappedRange()).set(data);
      b.unmap();
    }
    return b;
  }

  /** A uniform buffer written once: values packed as given (f32, u32 or i32, 4 bytes each). */
  uniform(label: string, fields: readonly UniformField[]): GPUBuffer {
    const bytes = Math.max(16, Math.ceil((fields.length * 4) / 16) * 16);
    const ab = new ArrayBuffer(bytes);
    const view = new DataView(ab);
    fields.forEach(([type, value], i) => {
      if (type === 'f32') view.setFloat32(i * 4, value, true);
      else if (type === 'u32') view.setUint32(i * 4, value >>> 0, true);
      else view.setInt32(i * 4, value | 0, true);
    });
    const b = this.buffer({ label, size: bytes, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    this.device.queue.writeBuffer(b, 0, ab);
    return b;
  }

  querySet(descriptor: GPUQuerySetDescriptor): GPUQuerySet {
    this.assertLive();
    const q = this.device.createQuerySet(descriptor);
    this.querySets.add(q);
    return q;
  }

  /** Frees one buffer now (a temporary whose last use has been submitted). */
  free(b: GPUBuffer): void {
    if (this.buffers.delete(b)) b.destroy();
  }

  /** Bytes held by this arena and its children. */
  get bytes(): number {
    let s = 0;
    for (const b of this.buffers) s += b.size;
    for (const c of this.children) s += c.bytes;
    return s;
  }

  /** Buffers held by this arena and its children. */
  get count(): number {
    let n = this.buffers.size;
    for (const c of this.children) n += c.count;
    return n;
  }

  get isDestroyed(): boolean {
    return this.destroyed;
  }

  /** Frees everything made through this arena and its children. Idempotent. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const c of [...this.children]) c.destroy();
    for (const b of this.buffers) b.destroy();
    for (const q of this.querySets) q.destroy();
    this.buffers.clear();
    this.querySets.clear();
    this.parent?.children.delete(this);
  }

  private assertLive(): void {
    if (this.destroyed) throw new Error(`GPU arena "${this.label}" was already destroyed`);
  }
}
