// Node module hooks so that `import code from './x.wgsl?raw'` works outside Vite (CLI, bench).
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const RAW = /\.wgsl\?raw$/;

export async function resolve(specifier, context, next) {
  if (RAW.test(specifier) && context.parentURL) {
    return { url: new URL(specifier, context.parentURL).href, shortCircuit: true };
  }
  return next(specifier, context);
}

export async function load(url, context, next) {
  if (RAW.test(url)) {
    const path = fileURLToPath(url.replace(/\?raw$/, ''));
    const text = await readFile(path, 'utf8');
    return { format: 'module', source: `export default ${JSON.stringify(text)};`, shortCircuit: true };
  }
  return next(url, context);
}
