// `npm run pack:gpu`: builds dist-gpu/, everything a bare GPU machine (no Node, no npm, no network) needs to
// run the CLI, the benchmark and the self-check, in one folder small enough to travel with a command
// (the device tool carries at most 64 MiB, the working tree included):
//
//   run.sh                 unpacks into $LORA_GPU_WORK and runs (scripts/gpu-run.sh; `bash dist-gpu/run.sh`)
//   cli.mjs                the CLI (every command of src/cli/main.ts) and `bench`, one file: WGSL inlined,
//                          TF.js (the benchmark's peer) and the GPT-2 tokenizer built in (scripts/gpu-entry.ts)
//   node.xz                this Node binary, xz-compressed
//   dawn.node.xz, webgpu/  the `webgpu` package for linux-x64: Dawn's binary (compressed) and its loader
//   libvulkan1_*.deb       Debian's Vulkan loader, unpacked by run.sh only where the system has none
//   public/                the GPT-2 tokenizer and the training text the `gpt2` command reads
//   torch_peer.py          the PyTorch side of the comparison (bench/torch_peer.py)
//   pack.json              what was packed: commit, versions, sizes
//
//   node scripts/pack-gpu.mjs [--out DIR] [--fast]
//   --fast: node and Dawn compressed at xz level 0 and the loader .deb optional (the packed-folder test);
//   compressed binaries are cached in node_modules/.cache/pack-gpu/, so a second pack takes seconds.
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, openSync, closeSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const MAX_BYTES = 60 * 2 ** 20;
const PLATFORM = 'linux-x64';

function parseArgs(argv) {
  const args = { out: join(root, 'dist-gpu'), fast: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--fast') args.fast = true;
    else if (a === '--out' && argv[i + 1]) args.out = resolve(argv[++i]);
    else if (a.startsWith('--out=')) args.out = resolve(a.slice(6));
    else fail(`unknown argument ${a} (usage: node scripts/pack-gpu.mjs [--out DIR] [--fast])`);
  }
  return args;
}

function fail(message) {
  process.stderr.write(`pack:gpu: ${message}\n`);
  process.exit(1);
}

const log = (line) => process.stderr.write(`${line}\n`);
const cache = join(root, 'node_modules', '.cache', 'pack-gpu');

/** `src` compressed with xz at `level`, cached under `key` (the compressed file's path). */
function xzCached(src, key, level) {
  const file = join(cache, `${key}.xz${level}`);
  if (!existsSync(file)) {
    mkdirSync(cache, { recursive: true });
    const t0 = Date.now();
    const fd = openSync(`${file}.tmp`, 'w');
    const r = spawnSync('xz', ['-T0', `-${level}`, '-c', src], { stdio: ['ignore', fd, 'inherit'] });
    closeSync(fd);
    if (r.status !== 0) fail(`xz failed on ${src} (${r.error?.message ?? `exit ${r.status}`}); install xz-utils`);
    renameSync(`${file}.tmp`, file);
    log(`compressed ${src} at xz -${level} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  return file;
}

/** Debian's libvulkan1 for amd64, downloaded once into the cache (as ../shared/tools/gpu-carry.sh does). */
function vulkanDeb() {
  const find = () => (existsSync(cache) ? readdirSync(cache).find((f) => /^libvulkan1_.*_amd64\.deb$/.test(f)) : undefined);
  if (!find()) {
    mkdirSync(cache, { recursive: true });
    const apt = (args) => spawnSync('apt-get', args, { cwd: cache, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
    let r = apt(['download', 'libvulkan1:amd64']);
    if (r.status !== 0) {
      // Package lists of another architecture (or none yet): fetch amd64's into a private folder.
      const lists = join(cache, 'apt-lists');
      mkdirSync(join(lists, 'partial'), { recursive: true });
      const o = ['-oAPT::Architecture=amd64', '-oAPT::Architectures=amd64', `-oDir::State::Lists=${lists}`];
      r = apt([...o, 'update', '-qq']);
      if (r.status === 0) r = apt([...o, 'download', 'libvulkan1']);
    }
    if (r.status !== 0) return { error: (r.stderr || r.error?.message || 'apt-get failed').trim().split('\n').pop() };
  }
  return { file: join(cache, find()) };
}

/** The CLI and `bench` in one ES module, with Vite (rolldown): WGSL `?raw` imports inline natively. */
async function bundle(outDir) {
  const { build } = await import('vite');
  await build({
    configFile: false,
    root,
    publicDir: false,
    logLevel: 'warn',
    resolve: {
      mainFields: ['module', 'jsnext:main', 'main'],
      // NOTE: transformers.js's Node build loads onnxruntime-node and sharp (native binaries) when imported;
      // its web build needs neither and tokenizes the same in Node (the only use here: src/models/tokenizer.ts).
      alias: [{ find: /^@huggingface\/transformers$/, replacement: join(root, 'node_modules/@huggingface/transformers/dist/transformers.web.js') }],
    },
    // webgpu stays a package beside the bundle: its loader finds dawn.node relative to itself. playwright-core
    // (sweep --png) needs a browser, which a GPU machine does not have: the command says so if asked.
    ssr: { noExternal: true, external: ['webgpu', 'playwright-core'], target: 'node' },
    build: {
      ssr: join(root, 'scripts/gpu-entry.ts'),
      outDir,
      emptyOutDir: false,
      minify: false,
      sourcemap: false,
      rollupOptions: { external: ['webgpu', 'playwright-core'], output: { format: 'es', entryFileNames: 'cli.mjs', codeSplitting: false } },
    },
  });
}

function git(...args) {
  const r = spawnSync('git', args, { cwd: root, encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

function sizeOf(path) {
  const s = statSync(path);
  if (!s.isDirectory()) return s.size;
  return readdirSync(path).reduce((sum, f) => sum + sizeOf(join(path, f)), 0);
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const t0 = Date.now();
  const out = args.out;
  // Only ever remove a folder this script made (or an empty one).
  if (existsSync(out)) {
    const mine = existsSync(join(out, 'pack.json')) || readdirSync(out).length === 0;
    if (!mine) fail(`${out} exists and is not a dist-gpu folder (no pack.json); remove it or choose --out`);
    rmSync(out, { recursive: true, force: true });
  }
  mkdirSync(out, { recursive: true });
  const level = args.fast ? 0 : 6;

  await bundle(out);
  log(`bundled cli.mjs (${(sizeOf(join(out, 'cli.mjs')) / 2 ** 20).toFixed(1)} MiB)`);

  copyFileSync(xzCached(process.execPath, `node-${process.version}-${process.platform}-${process.arch}`, level), join(out, 'node.xz'));
  const webgpu = join(root, 'node_modules/webgpu');
  const webgpuVersion = JSON.parse(readFileSync(join(webgpu, 'package.json'), 'utf8')).version;
  copyFileSync(xzCached(join(webgpu, 'dist', PLATFORM, 'dawn.node'), `dawn-${webgpuVersion}-${PLATFORM}`, level), join(out, 'dawn.node.xz'));
  mkdirSync(join(out, 'webgpu'));
  for (const f of ['index.js', 'package.json', 'LICENSE.md']) copyFileSync(join(webgpu, f), join(out, 'webgpu', f));

  const deb = vulkanDeb();
  if (deb.file) copyFileSync(deb.file, join(out, deb.file.split('/').pop()));
  else if (args.fast) log(`note: no Vulkan loader .deb (${deb.error}); run.sh then needs the system's libvulkan1`);
  else fail(`could not download Debian's libvulkan1 (${deb.error}); the GPU machines need it (see ../shared/tools/gpu-carry.sh)`);

  for (const p of ['public/models/gpt2-tokenizer/tokenizer.json', 'public/models/gpt2-tokenizer/tokenizer_config.json', 'public/data/tinyshakespeare.txt']) {
    mkdirSync(dirname(join(out, p)), { recursive: true });
    copyFileSync(join(root, p), join(out, p));
  }
  copyFileSync(join(root, 'bench/torch_peer.py'), join(out, 'torch_peer.py'));
  cpSync(join(root, 'scripts/gpu-run.sh'), join(out, 'run.sh'));

  const files = Object.fromEntries(readdirSync(out).sort().map((f) => [f, sizeOf(join(out, f))]));
  const totalBytes = Object.values(files).reduce((a, b) => a + b, 0);
  const dirty = git('status', '--porcelain', '--untracked-files=no');
  const manifest = {
    format: 'lora-playground-gpu-pack', commit: git('rev-parse', 'HEAD'), dirty: dirty === undefined ? undefined : dirty.length > 0,
    date: new Date().toISOString(), node: process.version, webgpu: webgpuVersion, platform: PLATFORM, xzLevel: level, files, totalBytes,
  };
  writeFileSync(join(out, 'pack.json'), `${JSON.stringify(manifest, null, 1)}\n`);
  const mib = (b) => `${(b / 2 ** 20).toFixed(1)} MiB`;
  log(Object.entries(files).map(([f, b]) => `  ${f.padEnd(36)} ${mib(b).padStart(10)}`).join('\n'));
  log(`${out}: ${mib(totalBytes)} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  if (totalBytes > MAX_BYTES) fail(`${mib(totalBytes)} is over the ${mib(MAX_BYTES)} a GPU machine's command may carry`);
}

await main();
