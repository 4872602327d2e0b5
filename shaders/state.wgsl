// The GPU training state (one per trainer, written only by train_state.wgsl's `advance`): the step
// counter, the metrics ring's size and slot stride, and Adam's bias corrections 1 - beta^t. Appended to
// every module that reads it (WGSL has no include): src/gpu/kernels/trainState.ts, STATE_WGSL.
struct State { step: u32, ring: u32, stride: u32, _p: u32, bc1: f32, bc2: f32, _q0: f32, _q1: f32 }
