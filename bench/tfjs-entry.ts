// What the benchmark needs of TF.js, as one ES module: core (with its gradients, which only the ESM tree
// registers) and the WebGPU backend class. The browser page imports this through Vite; in Node, bench/run.ts
// bundles it with Vite first, because tfjs-core's Node build has no gradients and its ESM tree does not load
// in Node as is (extensionless and directory imports).
export * as tf from '@tensorflow/tfjs-core';
export { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
