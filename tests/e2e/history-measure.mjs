// What the run history costs: bytes stored per 1,000 steps of a toy run and per tiny GPT-2 run (the
// record's own count of its typed arrays, and the browser's storage estimate), and how often it writes
// while a run trains (IndexedDB read-write transactions per second, counted from outside the app).
// Not part of `npm test`.
// Usage: npx vite build && node tests/e2e/history-measure.mjs [--steps 5000] [--n 64]
import { parseArgs } from 'node:util';
import { launch, openPage, serveDist, waitRunsFinished } from './harness.mjs';

const { values } = parseArgs({ options: { steps: { type: 'string', default: '5000' }, n: { type: 'string', default: '64' } } });

/** Counts read-write transactions (with their time) from outside the app. */
const countWrites = () => {
  globalThis.__writes = [];
  const tx = IDBDatabase.prototype.transaction;
  IDBDatabase.prototype.transaction = function (stores, mode, ...rest) {
    if (mode === 'readwrite') globalThis.__writes.push(performance.now());
    return tx.call(this, stores, mode, ...rest);
  };
};

const entries = (page) =>
  page.evaluate(async () => {
    const db = await new Promise((resolve, reject) => {
      const r = indexedDB.open('lora-playground-history');
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
    const all = await new Promise((resolve) => (db.transaction('records').objectStore('records').getAll().onsuccess = (e) => resolve(e.target.result)));
    db.close();
    return all.map((e) => ({ kind: e.kind, status: e.status, rows: e.rows, parts: e.parts, bytes: e.bytes }));
  });
const usage = (page) => page.evaluate(async () => (await navigator.storage.estimate()).usage);

const server = await serveDist();
const browser = await launch();
try {
  const steps = Number(values.steps);
  const { page } = await openPage(browser, server.url, { initScript: countWrites });
  await page.waitForSelector('.adapter-ready', { timeout: 60_000 });
  const u0 = await usage(page);
  await page.goto('about:blank');
  await page.goto(`${server.url}#v=1&n=${values.n}&nt=200&s=${steps}&run=`);
  const t0 = await page.evaluate(() => performance.now());
  await waitRunsFinished(page, 1, 600_000);
  const t1 = await page.evaluate(() => performance.now());
  await page.waitForTimeout(1500);
  const writes = await page.evaluate(([a, b]) => globalThis.__writes.filter((t) => t >= a && t <= b).length, [t0, t1]);
  const [toy] = (await entries(page)).filter((e) => e.kind === 'toy' && e.rows === steps);
  const u1 = await usage(page);
  const seconds = (t1 - t0) / 1000;
  console.log(`toy run, n = ${values.n}, rank 4, ${steps} steps in ${seconds.toFixed(1)} s (${(steps / seconds).toFixed(0)} steps/s):`);
  console.log(`  stored ${toy.bytes} B (${toy.parts} parts) = ${((1000 * toy.bytes) / steps / 1024).toFixed(1)} KiB per 1,000 steps (final A and B included); storage estimate grew ${((u1 - u0) / 1024).toFixed(0)} KiB`);
  console.log(`  writes while training: ${writes} read-write transactions in ${seconds.toFixed(1)} s = ${(writes / seconds).toFixed(2)} per second`);

  // The GPT-2 tab's tiny model with its defaults (60 steps, c_attn + c_fc, r = 8).
  await page.getByRole('tab', { name: 'GPT-2' }).click();
  await page.waitForFunction(() => document.querySelector('[data-testid="gpt2-plan"]')?.getAttribute('data-fits') === 'true', null, { timeout: 60_000 });
  const g0 = await page.evaluate(() => performance.now());
  await page.getByRole('button', { name: /Train$/ }).click();
  await page.waitForFunction(() => document.querySelector('[data-testid="gpt2-status-A"]')?.textContent === 'done', null, { timeout: 600_000 });
  const g1 = await page.evaluate(() => performance.now());
  await page.waitForTimeout(3000);
  const gwrites = await page.evaluate(([a, b]) => globalThis.__writes.filter((t) => t >= a && t <= b).length, [g0, g1]);
  const gpt2 = (await entries(page)).find((e) => e.kind === 'gpt2');
  const u2 = await usage(page);
  console.log(`tiny GPT-2 run (${gpt2.rows} steps, ${((g1 - g0) / 1000).toFixed(1)} s): stored ${(gpt2.bytes / 1024).toFixed(1)} KiB (trace and LoRA tensors); storage estimate grew ${((u2 - u1) / 1024).toFixed(0)} KiB; ${gwrites} read-write transactions (${(gwrites / ((g1 - g0) / 1000)).toFixed(2)} per second)`);
} finally {
  await browser.close();
  await server.close();
}
