// Shared setup for the end-to-end tests: a tiny static server for the built app (dist/) on
// 127.0.0.1 (a secure context, so WebGPU is offered) and Debian's Chromium through playwright-core,
// with SwiftShader's software WebGPU. Never downloads a browser.
import { createReadStream, existsSync, mkdirSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize, resolve } from 'node:path';
import { after, before } from 'node:test';
import { chromium } from 'playwright-core';

export const ROOT = resolve(import.meta.dirname, '../..');
export const DIST = join(ROOT, 'dist');
export const ARTIFACTS = join(ROOT, 'tests/artifacts');
mkdirSync(ARTIFACTS, { recursive: true });

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml', '.json': 'application/json', '.map': 'application/json', '.png': 'image/png', '.txt': 'text/plain' };

/** Serve dist/ on a free port; resolves to { url, close }. */
export async function serveDist() {
  if (!existsSync(join(DIST, 'index.html'))) throw new Error('dist/ is missing: run `npx vite build` first (scripts/test.sh does)');
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    let file = normalize(join(DIST, path));
    if (!file.startsWith(DIST)) return void res.writeHead(403).end();
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
    if (!existsSync(file)) return void res.writeHead(404).end('not found');
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
    createReadStream(file).pipe(res);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  return { url: `http://127.0.0.1:${port}/`, close: () => new Promise((r) => server.close(r)) };
}

/** Chromium with WebGPU on SwiftShader (webgpu: true), or with WebGPU switched off (webgpu: false). */
export async function launch({ webgpu = true } = {}) {
  const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';
  const args = ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'];
  if (webgpu) args.push('--enable-unsafe-webgpu');
  else args.push('--disable-webgpu');
  // playwright-core gives every launch a fresh temporary profile.
  return chromium.launch({ executablePath, args, headless: true });
}

/** The built app served and Chromium launched for one test file: before its tests, closed after them. */
export function useApp(options) {
  const app = {
    server: null,
    browser: null,
    get url() {
      return app.server.url;
    },
  };
  before(async () => {
    app.server = await serveDist();
    app.browser = await launch(options);
  });
  after(async () => {
    await app.browser?.close();
    await app.server?.close();
  });
  return app;
}

/**
 * A page at 1280x800 that fails the test on any uncaught exception in the app. `context`: open it as
 * another tab of that context (same profile: storage shared), which keeps the context's init scripts.
 */
export async function openPage(browser, url, { width = 1280, height = 800, initScript, context: shared } = {}) {
  const context = shared ?? (await browser.newContext({ viewport: { width, height }, acceptDownloads: true }));
  if (initScript && !shared) await context.addInitScript(initScript);
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/favicon/.test(m.text())) errors.push(new Error(`console: ${m.text()}`));
  });
  await page.goto(url);
  return { page, context, errors };
}

/** The text box of a setting, unfolding "More settings" when it is there. */
export async function settingInput(page, key) {
  const input = page.locator(`input.num[name="${key}"]`);
  if (!(await input.isVisible())) await page.getByRole('button', { name: /More settings/ }).click();
  return input;
}

/** Set a setting through its text box, as a user types it. */
export async function typeSetting(page, key, value) {
  await (await settingInput(page, key)).fill(String(value));
}

/** Wait until every run in the list has finished (done, diverged, failed, lost, or a stored run that was interrupted). */
export async function waitRunsFinished(page, count, timeout = 90_000) {
  await page.waitForFunction(
    (n) => {
      const items = [...document.querySelectorAll('[data-testid="run-list"] li')];
      return items.length === n && items.every((li) => ['done', 'diverged', 'error', 'lost', 'interrupted'].includes(li.getAttribute('data-status')));
    },
    count,
    { timeout },
  );
}

/** Export the visible runs as JSON through the page's own button and parse the download. */
export async function exportJson(page) {
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'JSON', exact: true }).click()]);
  const stream = await download.createReadStream();
  const chunks = [];
  for await (const c of stream) chunks.push(c);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

export async function screenshot(page, name) {
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path });
  return path;
}
