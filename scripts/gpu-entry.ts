// The entry of the packed CLI (dist-gpu/cli.mjs, built by scripts/pack-gpu.mjs): every command of
// src/cli/main.ts, plus `bench` (bench/main.ts) with TF.js built in, in one file that runs on a bare Node.
//   node cli.mjs <command> [flags]      as `npm run --silent cli -- <command>`
//   node cli.mjs bench [flags]          as `npm run bench -- [flags]` (Node only)
const [command, ...rest] = process.argv.slice(2);
if (command === 'bench') {
  const { benchMain } = await import('../bench/main.ts');
  const code = await benchMain(rest, { loadTfjs: () => import('../bench/tfjs-entry.ts'), defaultOut: 'bench-results.json' });
  process.stdout.write('', () => process.exit(code));
} else {
  // The supervisor starts its worker from this same file (process.argv[1]), which lands here again.
  const { startCli } = await import('../src/cli/main.ts');
  startCli(process.argv.slice(2));
}

export {};
