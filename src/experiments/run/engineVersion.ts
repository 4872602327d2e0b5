// The version of the numerics: what a stored result (run history, result bundles) was computed with. A
// share link or a bundle opens a stored result instead of training only when its engine version equals
// this one (and the adapter and every setting match), and a reproduction is compared against it.
//
// Bump rules:
//   bump      whenever the same settings may give a different trace on the same adapter: a kernel's
//             arithmetic or reduction order, a split-K or tiling choice that changes summation order, the
//             seeded streams (rng.ts) or what is drawn from them, data generation, inits, the optimizer,
//             the definition of a metric, the divergence rule. If the golden traces (tests/golden) must be
//             re-recorded, this must be bumped in the same commit.
//   no bump   UI, storage, throughput changes that keep the golden traces bit for bit, new settings whose
//             default reproduces the old behaviour exactly.
export const ENGINE_VERSION = 1;
