// Loaded into the CLI worker by the output tests (NODE_OPTIONS=--import): after the FAULT_AT_SUBMIT-th
// queue submit (a step of the training loop, outside any error scope), raises a WebGPU validation error on
// that device, as a kernel bug or an out-of-range buffer would. The CLI must stop with exit 1 and write nothing.
if (process.env.LORA_CLI_WORKER === String(process.ppid)) {
  const { globals } = await import(new URL('../../../node_modules/webgpu/index.js', import.meta.url).href);
  const at = Number(process.env.FAULT_AT_SUBMIT ?? 50);
  let device;
  let submits = 0;
  const encoder = globals.GPUDevice.prototype.createCommandEncoder;
  globals.GPUDevice.prototype.createCommandEncoder = function (...args) {
    device = this;
    return encoder.apply(this, args);
  };
  const submit = globals.GPUQueue.prototype.submit;
  globals.GPUQueue.prototype.submit = function (...args) {
    const r = submit.apply(this, args);
    if (++submits === at) device.createBuffer({ label: 'injected fault', size: 2 ** 52, usage: globals.GPUBufferUsage.STORAGE });
    return r;
  };
}
