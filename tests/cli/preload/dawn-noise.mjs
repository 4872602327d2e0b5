// Loaded into the CLI worker by the output tests (NODE_OPTIONS=--import): writes straight to descriptors 1
// and 2, as Dawn's C++ does (printf'd device logs on stdout, probing warnings on stderr), at start and later.
import { writeSync } from 'node:fs';

if (process.env.LORA_CLI_WORKER === String(process.ppid)) {
  writeSync(1, 'warning:\nDawn says something on stdout\n');
  writeSync(2, 'Warning: Vulkan shaderUniform*ArrayDynamicIndexing required.\n - While initializing adapter (backend=BackendType::Vulkan)\n    at InitializeImpl (PhysicalDeviceVk.cpp:257)\n\n');
  setTimeout(() => writeSync(1, 'info:\nlate native line on stdout\n'), 30).unref();
}
