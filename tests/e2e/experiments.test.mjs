// End-to-end: the Experiments tab in headless Chromium on SwiftShader's WebGPU. A tiny E4 sweep
// (2 seeds x 2 inits x 3 etas x 2 widths, 5 steps, one eta large enough to diverge) runs to the end: the
// progress reaches the total, the heatmaps have one cell per grid point (the seeds' mean) and mark the
// diverged ones, the read-out, CSV, JSON and PNG exports work; the share link reopens the sweep, and a
// bad sweep link says why and shows the defaults. A 2-step E3 sweep in the same page gives the
// width-scaling view's screenshot; a tiny E6 sweep (2 seeds, 2 widths) shows the ratio-to-lambda = 1
// charts and tables, and the metric selector re-ranks the heatmaps without re-running.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT, openPage, screenshot, useApp } from './harness.mjs';

const app = useApp();

const TINY = { 'axis-init': 'A,B', 'axis-n': '32,64', 'axis-eta': '1e-3,3e-2,10', 'axis-seed': '1,2', 'base-steps': '5', 'base-testEvery': '1' };

async function bytesOf(download) {
  const chunks = [];
  for await (const c of await download.createReadStream()) chunks.push(c);
  return Buffer.concat(chunks);
}

async function openExperiments(page) {
  await page.waitForSelector('.adapter-ready', { timeout: 60_000 });
  await page.getByRole('tab', { name: 'Experiments' }).click();
  await page.getByTestId('sweep-form').waitFor();
}

async function runSweep(page, total) {
  await page.getByRole('button', { name: 'Run sweep' }).click();
  const t0 = Date.now();
  await page.waitForSelector('[data-testid="sweep-bar"][data-phase="done"]', { timeout: 180_000 });
  console.log(`# ${total} runs: ${((Date.now() - t0) / 1000).toFixed(1)} s (${await page.getByTestId('sweep-progress').textContent()})`);
  const progress = page.getByTestId('sweep-progress');
  assert.equal(await progress.getAttribute('data-done'), String(total));
  assert.equal(await progress.getAttribute('data-total'), String(total));
  assert.match(await progress.textContent(), new RegExp(`${total} / ${total} runs .*runs/s`));
}

let link;

test('a tiny E4 sweep runs end to end: heatmaps with diverged cells, optimal eta, exports', async () => {
  const t0 = Date.now();
  const { page, context, errors } = await openPage(app.browser, app.url);
  await openExperiments(page);
  assert.equal(await page.locator('select[name="sweep-preset"]').inputValue(), 'e4');

  // Validation beside the field, and Run refused while it stands.
  await page.locator('input[name="axis-eta"]').fill('1e-3,abc');
  await page.locator('.sweep-field.invalid .field-error').waitFor();
  assert.match(await page.locator('.sweep-field.invalid .field-error').textContent(), /axes\.eta/);
  assert.equal(await page.getByRole('button', { name: 'Run sweep' }).isDisabled(), true);

  for (const [name, value] of Object.entries(TINY)) await page.locator(`input[name="${name}"]`).fill(value);
  assert.equal(await page.locator('.field-error').count(), 0);
  await runSweep(page, 24);

  const cells = page.locator('[data-testid^="heatmap-e4-heatmap-"] .heat-cell');
  assert.equal(await cells.count(), 12);
  assert.equal(await page.locator('[data-testid="heatmap-e4-heatmap-A"] .heat-cell').count(), 6);
  const diverged = await page.locator('.heat-cell[data-status="diverged"] .diverged-mark').count();
  assert.ok(diverged >= 1, `expected a diverged cell at eta = 10, got ${diverged}`);
  assert.ok((await page.locator('.heat-cell[data-status="done"]').count()) >= 4);
  assert.equal(await page.locator('.heat-cell[data-status="pending"]').count(), 0);

  // Read-out of a hovered cell.
  await page.locator('.heat-cell[data-status="diverged"]').first().hover();
  assert.match(await page.locator('.heat-readout').first().textContent(), /diverged with [12] of 2 seeds \(the first at step \d+\)/);
  await page.locator('.heat-cell[data-status="done"]').first().hover();
  assert.match(await page.locator('.heat-readout').first().textContent(), /final test loss \d.*, geometric mean of 2 of 2 seeds \(/);

  // Optimal eta chart with the fitted slopes printed.
  const fits = await page.locator('[data-figure="e4-optimal-eta"] .fit-line').allTextContents();
  assert.equal(fits.length, 2);
  assert.match(fits.join('\n'), /Init\[A\]: fitted slope of η\* against n/);
  assert.match(fits.join('\n'), /seed by seed -?\d+\.\d\d( ± \d+\.\d\d)? \(mean ± standard error of 2 seeds\)/);
  assert.ok((await page.locator('[data-figure="e4-optimal-eta"] .recharts-line').count()) >= 2);

  // Exports.
  const [csv] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'CSV', exact: true }).click()]);
  const csvText = (await bytesOf(csv)).toString('utf8').trim().split('\n');
  assert.equal(csvText.length, 25);
  assert.match(csvText[0], /^index,init,n,lambda,eta,seed,status/);
  const [json] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'JSON', exact: true }).click()]);
  const result = JSON.parse((await bytesOf(json)).toString('utf8'));
  assert.equal(result.format, 'lora-playground-sweep');
  assert.equal(result.runs.length, 24);
  assert.ok(result.runs.some((r) => r.status === 'diverged'));
  const [png] = await Promise.all([page.waitForEvent('download'), page.locator('[data-figure="e4-heatmap-A"] .link-btn').click()]);
  assert.match(png.suggestedFilename(), /\.png$/);
  assert.equal((await bytesOf(png)).subarray(1, 4).toString('latin1'), 'PNG');

  await page.mouse.move(0, 0);
  const shot = await screenshot(page, 'experiments-e4');
  mkdirSync(join(ROOT, 'docs/screenshots'), { recursive: true });
  copyFileSync(shot, join(ROOT, 'docs/screenshots/experiments-e4.png'));

  link = await page.evaluate(() => location.href);
  assert.match(link, /#sweep=1&kind=lr-width&x\.seed=1%2C2&x\.init=A%2CB&x\.n=32%2C64&x\.eta=0\.001%2C0\.03%2C10/);
  console.log(`# tiny E4 sweep test: ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  // E3 in the same page (its pipelines are built already): one-step change of ||Z_B|| against width.
  await page.locator('select[name="sweep-preset"]').selectOption('e3');
  assert.equal(await page.locator('input[name="axis-n"]').inputValue(), '128,256,512');
  await page.waitForFunction(() => /kind=width-scaling/.test(location.hash)); // the address follows the form
  await page.locator('input[name="axis-n"]').fill('64,128,256');
  assert.equal(await page.locator('input[name="axis-seed"]').inputValue(), '1,2');
  await page.locator('input[name="axis-seed"]').fill('1');
  await runSweep(page, 6);
  const e3fits = await page.locator('[data-figure="e3-one-step"] .fit-line').allTextContents();
  assert.equal(e3fits.length, 2);
  assert.match(e3fits.join('\n'), /Init\[B\]: fitted slope -?\d/);
  assert.equal(await page.locator('[data-figure="e5-norms"] .fit-line').count(), 2);
  await page.mouse.move(0, 0);
  copyFileSync(await screenshot(page, 'experiments-e3'), join(ROOT, 'docs/screenshots/experiments-e3.png'));

  // E6 (scaled for software: one width, 2 seeds); here 2 widths, 2 ratios, 2 etas, 5 steps.
  await page.locator('select[name="sweep-preset"]').selectOption('e6');
  assert.equal(await page.locator('input[name="axis-seed"]').inputValue(), '1,2');
  assert.equal(await page.locator('input[name="axis-n"]').inputValue(), '512');
  for (const [name, value] of Object.entries({ 'axis-n': '32,64', 'axis-lambda': '1,4', 'axis-eta': '1e-3,1e-2', 'base-steps': '5', 'base-testEvery': '5' })) await page.locator(`input[name="${name}"]`).fill(value);
  await runSweep(page, 16);
  for (const which of ['train', 'test']) {
    const ratioFits = await page.locator(`[data-figure="e6-ratio-${which}"] .fit-line`).allTextContents();
    assert.equal(ratioFits.length, 2, which);
    assert.match(ratioFits.join('\n'), /n = 64: lowest at λ = [14], \d.* × the loss at λ = 1 \(seeds /);
    const rows = await page.locator(`[data-testid="e6-table-${which}"] tbody tr`).allTextContents();
    assert.equal(rows.length, 2);
    assert.match(rows[0], /^11\s*\[1–1\]1\s*\[1–1\]$/); // lambda = 1 is 1 by construction
  }
  assert.equal(await page.locator('select[name="sweep-metric"]').inputValue(), 'finalLoss');
  assert.match(await page.locator('[data-figure="e6-heatmap-A-64"] .chart-title').textContent(), /final train loss over η × λ \(n = 64\)/);
  await page.locator('select[name="sweep-metric"]').selectOption('bestTestLoss');
  assert.match(await page.locator('[data-figure="e6-heatmap-A-64"] .chart-title').textContent(), /best test loss so far over η × λ/);
  await page.locator('select[name="sweep-metric"]').selectOption('finalLoss');
  await page.mouse.move(0, 0);
  copyFileSync(await screenshot(page, 'experiments-e6'), join(ROOT, 'docs/screenshots/experiments-e6.png'));
  assert.deepEqual(errors, []);
  await context.close();
  console.log(`# E4 + E3 sweeps test: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
});

test('the share link reopens the sweep; a bad sweep link shows a message and the defaults', async () => {
  assert.ok(link, 'the previous test wrote the link');
  const a = await openPage(app.browser, link);
  await a.page.getByTestId('sweep-form').waitFor({ timeout: 30_000 });
  assert.equal(await a.page.getByRole('tab', { name: 'Experiments' }).getAttribute('aria-selected'), 'true');
  // Same values (the link writes them normalised: 1e-3 reads back as 0.001).
  const values = (t) => t.split(',').map((x) => (/^[AB]$/.test(x) ? x : Number(x)));
  for (const [name, value] of Object.entries(TINY)) assert.deepEqual(values(await a.page.locator(`input[name="${name}"]`).inputValue()), values(value), name);
  assert.match(await a.page.locator('.notice').textContent(), /Opened a shared sweep/);
  assert.equal(await a.page.evaluate(() => location.href), link);
  await a.context.close();

  const b = await openPage(app.browser, `${app.url}#sweep=1&kind=lr-width&x.n=64,32&x.eta=1e-3,1e-2`);
  await b.page.getByTestId('sweep-form').waitFor({ timeout: 30_000 });
  assert.match(await b.page.locator('.notice').textContent(), /This sweep link could not be opened: axes\.n must be in increasing order.*default sweep/);
  assert.equal(await b.page.locator('select[name="sweep-preset"]').inputValue(), 'e4');
  assert.equal(await b.page.locator('.field-error').count(), 0);
  await b.context.close();
});
