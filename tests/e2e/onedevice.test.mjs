// End-to-end: one GPU device for the whole page. A Playground compare, an Experiments sweep and a GPT-2
// run, the three at once, all train on the single device the page requested (counted by hooking
// GPUAdapter.requestDevice from outside the app); and a compare's two runs train together: both have steps
// on the chart within seconds of pressing Compare, long before either is done.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openPage, screenshot, useApp } from './harness.mjs';

const app = useApp();

const countDevices = () => {
  const original = GPUAdapter.prototype.requestDevice;
  globalThis.__devices = 0;
  GPUAdapter.prototype.requestDevice = async function (...args) {
    globalThis.__devices++;
    return original.apply(this, args);
  };
};

/** Steps shown per run in the run list. */
const runSteps = (page) =>
  page.evaluate(() => [...document.querySelectorAll('[data-testid="run-list"] li')].map((li) => ({ status: li.getAttribute('data-status'), step: Number(/(\d+)\//.exec(li.querySelector('.run-meta')?.textContent ?? '')?.[1] ?? 0) })));

test('a compare trains both runs together; Playground, Experiments and GPT-2 share one GPU device', async () => {
  const { page, context, errors } = await openPage(app.browser, `${app.url}#v=1&n=64&nt=200&s=3000&te=50`, { initScript: countDevices });
  await page.waitForSelector('.adapter-ready', { timeout: 60_000 });

  // Compare: both runs have steps within seconds (the first includes building the pipelines), neither done.
  const t0 = Date.now();
  await page.getByRole('button', { name: /Compare/ }).click();
  let both = null;
  while (Date.now() - t0 < 30_000) {
    const rows = await runSteps(page);
    if (rows.length === 2 && rows.every((r) => r.step > 0)) {
      both = rows;
      break;
    }
    await page.waitForTimeout(100);
  }
  assert.ok(both, 'both runs of the compare have steps within 30 s');
  console.log(`# both compare runs on the chart after ${((Date.now() - t0) / 1000).toFixed(1)} s: steps ${both.map((r) => r.step).join(', ')}`);
  assert.ok(both.every((r) => r.step < 3000 && r.status === 'running'), JSON.stringify(both));
  assert.ok(Math.abs(both[0].step - both[1].step) <= 64, `they advance together (${both[0].step} vs ${both[1].step})`);

  // While it trains: a tiny sweep in the Experiments tab ...
  await page.getByRole('tab', { name: 'Experiments' }).click();
  await page.getByTestId('sweep-form').waitFor();
  for (const [name, value] of Object.entries({ 'axis-init': 'A,B', 'axis-n': '32', 'axis-eta': '1e-3,3e-2', 'base-steps': '4', 'base-testEvery': '1' })) {
    await page.locator(`input[name="${name}"]`).fill(value);
  }
  await page.getByRole('button', { name: 'Run sweep' }).click();
  await page.waitForSelector('[data-testid="sweep-bar"][data-phase="done"]', { timeout: 180_000 });

  // ... and a tiny GPT-2 run.
  await page.getByRole('tab', { name: 'GPT-2' }).click();
  await page.getByTestId('gpt2-tab').waitFor();
  for (const [name, value] of Object.entries({ batch: 1, seq: 8, steps: 3 })) await page.locator(`.g2-settings input[name="${name}"]`).fill(String(value));
  await page.waitForFunction(() => document.querySelector('[data-testid="gpt2-plan"]')?.getAttribute('data-fits') === 'true', null, { timeout: 30_000 });
  await page.getByRole('button', { name: /Train$/ }).click();
  await page.waitForFunction(() => document.querySelector('[data-testid^="gpt2-status-"]')?.textContent === 'done', null, { timeout: 120_000 });

  // The compare went on meanwhile, on the same device.
  await page.getByRole('tab', { name: 'Playground' }).click();
  const later = await runSteps(page);
  assert.ok(later.every((r, i) => r.step > both[i].step), `the compare kept training (${JSON.stringify(later)})`);
  await screenshot(page, 'one-device-compare');
  assert.equal(await page.evaluate(() => globalThis.__devices), 1, 'one GPUDevice for the whole page');
  assert.deepEqual(errors, []);
  await context.close();
});
