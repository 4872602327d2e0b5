// WGSL files are imported as strings: `import code from '../../shaders/matmul.wgsl?raw'`.
// Vite handles `?raw` natively; in Node, scripts/wgsl-hooks.mjs does the same (one convention everywhere).
declare module '*.wgsl?raw' {
  const source: string;
  export default source;
}
