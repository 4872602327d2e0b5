// End-to-end: the Experiments tab's sweep and the GPT-2 tab's runs in the run history: back after a
// reload without GPU work, and carried by result bundles into a fresh profile.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openPage, screenshot, useApp } from './harness.mjs';
import { countGpu, download, dropFile, gpuWork, openHistory } from './historyHelpers.mjs';

const app = useApp();

test('the Experiments tab’s sweep and the GPT-2 tab’s runs come back after a reload, and travel as bundles', async () => {
  const { page, context, errors } = await openPage(app.browser, app.url, { initScript: countGpu });
  await page.waitForSelector('.adapter-ready', { timeout: 60_000 });
  // A tiny E4 sweep (12 runs of 5 steps).
  await page.getByRole('tab', { name: 'Experiments' }).click();
  const TINY = { 'axis-init': 'A,B', 'axis-n': '32,64', 'axis-eta': '1e-3,3e-2,10', 'base-steps': '5', 'base-testEvery': '1' };
  for (const [name, value] of Object.entries(TINY)) await page.locator(`input[name="${name}"]`).fill(value);
  await page.getByRole('button', { name: 'Run sweep' }).click();
  await page.waitForSelector('[data-testid="sweep-bar"][data-phase="done"]', { timeout: 180_000 });
  const sweepJson = async (p) => JSON.parse((await download(p, p.getByTestId('sweep-bar').getByRole('button', { name: 'JSON', exact: true }))).bytes.toString('utf8'));
  const sweep = await sweepJson(page);
  const sweepBundle = await download(page, page.getByTestId('sweep-bar').getByRole('button', { name: 'Bundle', exact: true }));
  // A tiny GPT-2 run (3 steps).
  await page.getByRole('tab', { name: 'GPT-2' }).click();
  for (const [name, value] of Object.entries({ batch: 2, seq: 16, steps: 3, eta: 0.01 })) await page.locator(`.g2-settings input[name="${name}"]`).fill(String(value));
  await page.waitForFunction(() => document.querySelector('[data-testid="gpt2-plan"]')?.getAttribute('data-fits') === 'true', null, { timeout: 30_000 });
  await page.getByRole('button', { name: /Train$/ }).click();
  await page.waitForFunction(() => document.querySelector('[data-testid="gpt2-status-A"]')?.textContent === 'done', null, { timeout: 120_000 });
  await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="gpt2-generations"] li')].every((li) => li.getAttribute('data-pending') === 'false'), null, { timeout: 60_000 });
  const lossPath = () => page.$$eval('[data-chart="gpt2-loss"] path.recharts-curve', (ps) => ps.map((p) => p.getAttribute('d')).filter((d) => d && d.length > 20).sort());
  const curves = await lossPath();
  const samples = await page.$$eval('[data-testid="gpt2-generations"] .g2-gen-text', (xs) => xs.map((x) => x.textContent));
  await (await openHistory(page)).locator('li.history-item[data-kind="gpt2"][data-status="done"]').waitFor();
  const gpt2File = await download(page, page.getByRole('button', { name: 'Bundle', exact: true }));
  assert.match(gpt2File.name, /gpt2-runs/);
  assert.equal(JSON.parse(gpt2File.bytes.toString('utf8')).runs[0].peft['adapter_config.json'].peft_type, 'LORA');

  // Reload on the GPT-2 tab: its link's run is stored, the sweep comes back from before; no GPU work.
  await page.reload();
  await page.getByTestId('gpt2-tab').waitFor();
  await page.waitForFunction(() => document.querySelector('[data-testid="gpt2-status-A"]')?.textContent === 'done', null, { timeout: 30_000 });
  assert.deepEqual(await lossPath(), curves, 'the same loss curve');
  assert.deepEqual(await page.$$eval('[data-testid="gpt2-generations"] .g2-gen-text', (xs) => xs.map((x) => x.textContent)), samples, 'the same samples');
  await page.getByRole('tab', { name: 'Experiments' }).click();
  await page.waitForSelector('[data-testid="sweep-bar"][data-phase="done"]');
  assert.equal(await page.locator('[data-testid^="heatmap-e4-heatmap-"] .heat-cell').count(), 12);
  assert.deepEqual((await sweepJson(page)).runs, sweep.runs, 'every run summary');
  assert.match(await page.getByTestId('sweep-bar').textContent(), /shown without recomputing/);
  const work = await gpuWork(page);
  assert.equal(work.dispatches, 0);
  assert.equal(work.submits, 0);
  // The adapter of the restored run still downloads.
  await page.getByRole('tab', { name: 'GPT-2' }).click();
  const downloads = [];
  page.on('download', (d) => downloads.push(d.suggestedFilename()));
  await page.getByRole('button', { name: /Download PEFT adapter/ }).click();
  for (let i = 0; i < 50 && downloads.length < 2; i++) await page.waitForTimeout(100);
  assert.deepEqual(downloads.sort(), ['adapter_config.json', 'adapter_model.safetensors']);
  assert.equal(await page.getByRole('button', { name: /Greedy/ }).count(), 0, 'no generation without the model');
  assert.deepEqual(errors, []);
  await context.close();

  // Both bundles into a fresh profile: the same views, nothing computed.
  const fresh = await openPage(app.browser, app.url, { initScript: countGpu });
  await fresh.page.waitForSelector('.adapter-ready', { timeout: 60_000 });
  await openHistory(fresh.page);
  await dropFile(fresh.page, '[data-testid="bundle-drop"]', sweepBundle.name, sweepBundle.bytes);
  await fresh.page.waitForSelector('[data-testid="sweep-bar"][data-phase="done"]');
  await fresh.page.getByRole('button', { name: 'Close History' }).click(); // it covers the sweep bar's exports
  assert.deepEqual((await sweepJson(fresh.page)).runs, sweep.runs);
  await openHistory(fresh.page);
  await dropFile(fresh.page, '[data-testid="bundle-drop"]', gpt2File.name, gpt2File.bytes);
  await fresh.page.waitForFunction(() => document.querySelector('[data-testid="gpt2-status-A"]')?.textContent === 'done', null, { timeout: 30_000 });
  const freshCurves = await fresh.page.$$eval('[data-chart="gpt2-loss"] path.recharts-curve', (ps) => ps.map((p) => p.getAttribute('d')).filter((d) => d && d.length > 20).sort());
  assert.deepEqual(freshCurves, curves);
  assert.equal((await gpuWork(fresh.page)).dispatches, 0);
  await screenshot(fresh.page, 'history-gpt2-bundle');
  assert.deepEqual(fresh.errors, []);
  await fresh.context.close();
});
