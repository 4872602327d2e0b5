// The GPU training state (one per trainer): the step counter, the metrics ring's size and slot stride,
// Adam's bias corrections 1 - beta^t, this step's learning-rate factor (the schedule) and gradient scale
// (the clipping), and the micro-batch being computed (gradient accumulation). `advance` (train_state.wgsl)
// writes step, bc1, bc2 and lr_scale; grad_clip.wgsl writes clip after the backward pass; the trainer
// copies each micro-batch's index into `micro` before its forward pass (dropout masks differ per micro-batch). Appended to every module that reads it (WGSL has no include): STATE_WGSL in
// src/gpu/kernels/trainState.ts.
struct State { step: u32, ring: u32, stride: u32, micro: u32, bc1: f32, bc2: f32, lr_scale: f32, clip: f32 }
