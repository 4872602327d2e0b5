// GPT-2's input embedding: token row plus position row.
//   out[n, c] = wte[tok[n], c] + wpe[n % T, c]      tok: N = B*T (u32), wte: V x C, wpe: P x C, out: N x C
// The token table may be split into vocabulary chunks (one buffer each: 50257 x 768 f32 is 154 MB, more
// than WebGPU's default 128 MiB binding). One dispatch per chunk [v0, v0 + rows): FIRST writes wpe plus
// its rows, the others add their rows where the token falls in their range. No gradient flows here
// (the embeddings are frozen and nothing is trainable below them).
// embed_at: the same for the tokens of one sequence starting at position position[0] (decoding with a
// KV cache: one new token at a time, its position written beside its id).

override FIRST: bool = true;

struct Params { count: u32, cols: u32, seq: u32, v0: u32, rows: u32, _p0: u32, _p1: u32, _p2: u32 }

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> tok: array<u32>;
@group(0) @binding(2) var<storage, read> wte: array<f32>;   // this chunk: rows x C
@group(0) @binding(3) var<storage, read> wpe: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

@group(0) @binding(5) var<storage, read> position: array<u32>;

@compute @workgroup_size(256)
fn embed(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 256u;
  embed_one(i, (i / p.cols) % p.seq);
}

@compute @workgroup_size(256)
fn embed_at(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 256u;
  embed_one(i, position[0] + i / p.cols);
}

// Element i of out, at sequence position t.
fn embed_one(i: u32, t_pos: u32) {
  if (i >= p.count) { return; }
  let n = i / p.cols;
  let c = i % p.cols;
  let t = tok[n];
  let inChunk = t >= p.v0 && t < p.v0 + p.rows;
  // NOTE: clamp the row even when it is not used: an out-of-range read is clamped by robustness anyway,
  // but a well-defined index keeps the select branch-free.
  let row = min(t - min(t, p.v0), p.rows - 1u);
  let e = select(0.0, wte[row * p.cols + c], inChunk);
  if (FIRST) {
    out[i] = wpe[t_pos * p.cols + c] + e;
  } else if (inChunk) {
    out[i] = out[i] + e;
  }
}
