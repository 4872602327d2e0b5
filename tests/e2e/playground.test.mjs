// End-to-end: the built page in headless Chromium on SwiftShader's WebGPU. Small configurations
// (n = 64, 200 examples, 30 steps) keep each run to seconds.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { exportJson, openPage, screenshot, settingInput, typeSetting, useApp, waitRunsFinished } from './harness.mjs';

const SMALL = { n: 64, nTrain: 200, steps: 30 };
const app = useApp();
let main; // the page the first tests build on

/** The solid (smoothed) loss curves drawn in the loss chart, by stroke colour, once `count` are drawn. */
async function lossCurves(page, count = 1) {
  const selector = '[data-chart="loss"] .recharts-line path.recharts-curve:not([stroke-dasharray]):not([stroke-opacity="0.22"])';
  await page.waitForFunction(([sel, n]) => [...document.querySelectorAll(sel)].filter((p) => (p.getAttribute('d') ?? '').length > 0).length >= n, [selector, count], { timeout: 10_000 });
  return page.$$eval('[data-chart="loss"] .recharts-line path.recharts-curve', (paths) =>
    paths
      .filter((p) => !p.getAttribute('stroke-dasharray') && p.getAttribute('stroke-opacity') !== '0.22' && (p.getAttribute('d') ?? '').length > 0)
      .map((p) => ({ stroke: p.getAttribute('stroke'), points: (p.getAttribute('d').match(/[LC]/g) ?? []).length })),
  );
}

/** Click something that downloads a file; returns the file's bytes. */
async function download(page, locator) {
  const [d] = await Promise.all([page.waitForEvent('download'), locator.click()]);
  const chunks = [];
  for await (const c of await d.createReadStream()) chunks.push(c);
  return Buffer.concat(chunks);
}

async function formValue(page, key) {
  return (await settingInput(page, key)).inputValue();
}

test('the page loads with the SwiftShader adapter', async () => {
  main = await openPage(app.browser, app.url);
  const { page } = main;
  await page.waitForSelector('.adapter-ready', { timeout: 60_000 });
  assert.match(await page.getByTestId('adapter').textContent(), /swiftshader/i);
  assert.equal(await formValue(page, 'n'), '256');
  await screenshot(page, '01-loaded');
});

test('an invalid field is refused beside the field and never reaches the link or the engine', async () => {
  const { page } = main;
  const before = page.url();
  await typeSetting(page, 'n', '12x');
  const error = page.locator('.field-error[data-field="n"]');
  await assert.doesNotReject(error.waitFor());
  assert.equal(await error.textContent(), 'Width n must be a number');
  assert.equal(await page.locator('input.num[name="n"]').getAttribute('aria-invalid'), 'true');
  assert.ok(await page.getByRole('button', { name: /Run$/ }).isDisabled(), 'Run is disabled while a field is invalid');
  assert.ok(await page.getByRole('button', { name: /Compare/ }).isDisabled());
  await typeSetting(page, 'n', '100000');
  assert.equal(await error.textContent(), 'Width n must be between 16 and 8192');
  await page.waitForTimeout(300); // the link is written 150 ms after a valid change
  assert.equal(page.url(), before, 'the link still holds the last valid settings');
  await typeSetting(page, 'n', '32');
  await typeSetting(page, 'rank', '48');
  assert.match(await page.locator('.field-error[data-field="rank"]').textContent(), /must not exceed width n \(32\)/);
  await page.waitForTimeout(300);
  assert.match(page.url(), /&n=32&r=4&/, 'the link holds n = 32 (valid) and not rank 48');
  await screenshot(page, '02-invalid-field');
  assert.equal(await page.locator('[data-testid="run-list"] li').count(), 0);
  await typeSetting(page, 'rank', '4');
  assert.equal(await page.locator('.field-error').count(), 0);
  assert.ok(await page.getByRole('button', { name: /Run$/ }).isEnabled());
  assert.deepEqual(main.errors, []);
});

test('a run of 30 steps at a small width draws a falling loss curve', async () => {
  const { page } = main;
  for (const [k, v] of Object.entries(SMALL)) await typeSetting(page, k, v);
  await page.getByRole('button', { name: /Run$/ }).click();
  await waitRunsFinished(page, 1);
  assert.match(await page.getByTestId('progress').textContent(), /done · 30 of 30 steps/);
  const json = await exportJson(page);
  const losses = json.runs[0].steps.map((s) => s.loss);
  assert.equal(losses.length, 30);
  assert.ok(losses.every(Number.isFinite));
  assert.ok(losses[29] < 0.8 * losses[0], `loss falls: ${losses[0]} -> ${losses[29]}`);
  const curves = await lossCurves(page);
  assert.equal(curves.length, 1);
  assert.ok(curves[0].points >= 20, 'the curve has a point per step');
  assert.ok(json.runs[0].stepsPerSecond > 0);
  await screenshot(page, '03-run-done');
  assert.deepEqual(main.errors, []);
});

test('Compare runs Init[A] and Init[B] from one seed: two series, a legend naming the difference', async () => {
  const { page } = main;
  await page.getByRole('checkbox', { name: 'Show run 1' }).uncheck();
  await page.getByRole('button', { name: /Compare/ }).click();
  await waitRunsFinished(page, 3);
  const curves = await lossCurves(page, 2);
  assert.equal(curves.length, 2);
  assert.notEqual(curves[0].stroke, curves[1].stroke);
  const legend = await page.getByTestId('legend').textContent();
  assert.match(legend, /Init\[A\] vs Init\[B\], λ = 1, n = 64, η = 0\.001/);
  const json = await exportJson(page);
  assert.deepEqual(json.runs.map((r) => r.config.init), ['A', 'B']);
  // Same frozen weights and data: identical loss at step 1 (B A = 0 for both), different afterwards.
  assert.equal(json.runs[0].steps[0].loss, json.runs[1].steps[0].loss);
  assert.notEqual(json.runs[0].steps[5].loss, json.runs[1].steps[5].loss);
  // The hidden run kept its trace: same settings as the Init[A] run, the same curve, bit for bit: it trained
  // alone and the compare's two runs together, and a run's trace does not depend on the runs beside it.
  await page.getByRole('checkbox', { name: 'Show run 1' }).check();
  const all = await exportJson(page);
  assert.deepEqual(all.runs[0].steps, all.runs[1].steps);
  await page.getByRole('checkbox', { name: 'Show run 1' }).uncheck();
  // Exports: CSV of every step of the shown runs, PNG of a chart.
  const csv = await download(page, page.getByRole('button', { name: 'CSV', exact: true }));
  const lines = csv.toString('utf8').trim().split('\n');
  assert.equal(lines.length, 1 + 2 * 30);
  assert.match(lines[0], /^run,label,step,loss,zA,zB,normA,normB,normSBA,testLoss,init,/);
  const png = await download(page, page.locator('[data-chart="loss"]').getByRole('button', { name: 'PNG' }));
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  assert.ok(png.length > 10_000, `a real image (${png.length} bytes)`);
  const box = await page.locator('[data-chart="loss"] .recharts-surface').boundingBox();
  await page.mouse.move(box.x + box.width * 0.35, box.y + box.height * 0.4);
  await page.locator('.readout').waitFor();
  await screenshot(page, '04-compare');
  assert.deepEqual(main.errors, []);
});

test('a share link round-trips to the same settings and the same first 10 loss values', async () => {
  const { page, context } = main;
  const link = page.url();
  assert.match(link, /#v=1&/);
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: app.url });
  await page.getByRole('button', { name: 'Copy link' }).click();
  await page.getByRole('button', { name: 'Link copied ✓' }).waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), link);
  const original = await exportJson(page);
  const fresh = await openPage(app.browser, link);
  await waitRunsFinished(fresh.page, 3);
  for (const [k, v] of Object.entries(SMALL)) assert.equal(await formValue(fresh.page, k), String(v));
  const reopened = await exportJson(fresh.page);
  assert.equal(reopened.runs.length, 2, 'the hidden run stays hidden');
  for (let i = 0; i < 2; i++) {
    assert.deepEqual(reopened.runs[i].config, original.runs[i].config);
    const a = original.runs[i].steps.slice(0, 10).map((s) => s.loss);
    const b = reopened.runs[i].steps.slice(0, 10).map((s) => s.loss);
    assert.deepEqual(b, a);
  }
  assert.equal(fresh.page.url(), link, 'the reopened page writes the same link');
  assert.deepEqual(fresh.errors, []);
  await fresh.context.close();
});

test('a malformed or hostile link opens the defaults with a short message', async () => {
  const cases = [
    ['#v=1&n=abc&i=<script>alert(1)</script>', /Width n must be a number/],
    ['#v=1&n=8192&nt=100000&run=', /GiB of GPU memory/],
    ['#v=7&n=64', /newer version/],
    ['#v=1&zz=1', /unknown setting "zz"/],
    ['#v=1&' + 'x'.repeat(200_000), /too long/],
  ];
  for (const [hash, message] of cases) {
    const { page, context, errors } = await openPage(app.browser, app.url + hash);
    const notice = page.getByTestId('notice');
    await notice.waitFor();
    const text = await notice.textContent();
    assert.match(text, /could not be opened/);
    assert.match(text, message);
    assert.ok(text.length < 300, 'the message is short');
    assert.equal(await formValue(page, 'n'), '256');
    assert.equal(await page.locator('[data-testid="run-list"] li').count(), 0);
    await page.waitForSelector('.adapter-ready');
    assert.match(page.url(), /#v=1&i=A&id=gaussian&e=0\.001&l=1&n=256&/, 'the address bar now holds the defaults');
    if (hash.includes('script')) await screenshot(page, '05-bad-link');
    assert.deepEqual(errors, []);
    await context.close();
  }
});

test('an older (unversioned) link still opens', async () => {
  const { page, context, errors } = await openPage(app.browser, `${app.url}#init=B&eta=0.01&teacher-rank=3`);
  await page.getByTestId('notice').waitFor();
  assert.match(await page.getByTestId('notice').textContent(), /older version/);
  assert.equal(await formValue(page, 'eta'), '0.01');
  assert.equal(await page.getByRole('radio', { name: 'Init[B]' }).getAttribute('aria-checked'), 'true');
  assert.match(page.url(), /#v=1&i=B&/);
  assert.deepEqual(errors, []);
  await context.close();
});

test('Pause, Step, Resume and Reset drive the run in progress', async () => {
  const { page, context, errors } = await openPage(app.browser, `${app.url}#v=1&n=64&nt=200&s=5000`);
  await page.waitForSelector('.adapter-ready', { state: 'attached' });
  const step = async () => Number(await page.getByTestId('step').textContent());
  const status = () => page.locator('[data-testid="run-list"] li').getAttribute('data-status');
  await page.getByRole('button', { name: /Run$/ }).click();
  await page.waitForFunction(() => Number(document.querySelector('[data-testid="step"]')?.textContent) >= 5, null, { timeout: 60_000 });
  await page.getByRole('button', { name: /Pause/ }).click();
  await page.waitForSelector('[data-testid="run-list"] li[data-status="paused"]');
  const paused = await step();
  await page.waitForTimeout(500);
  assert.equal(await step(), paused, 'nothing trains while paused');
  await page.getByRole('button', { name: 'Step', exact: true }).click();
  await page.waitForFunction((k) => Number(document.querySelector('[data-testid="step"]')?.textContent) === k + 1, paused);
  assert.equal(await status(), 'paused');
  await page.getByRole('button', { name: /Resume/ }).click();
  await page.waitForFunction((k) => Number(document.querySelector('[data-testid="step"]')?.textContent) >= k + 5, paused);
  assert.equal(await status(), 'running');
  await page.getByRole('button', { name: /Reset/ }).click();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="run-list"] li').length === 0);
  assert.ok(await page.getByRole('button', { name: /Run$/ }).isEnabled());
  await page.waitForFunction(() => !location.hash.includes('&run='), null, { timeout: 5000 }); // the discarded run leaves the link
  assert.match(page.url(), /#v=1&.*&s=5000&te=10&sd=1$/);
  assert.deepEqual(errors, []);
  await context.close();
});

test('a diverging run stops and is marked on the curve at the step it happened', async () => {
  const { page, context, errors } = await openPage(app.browser, `${app.url}#v=1&n=64&nt=200&s=30&e=1&l=64&run=`);
  await waitRunsFinished(page, 1);
  const item = page.locator('[data-testid="run-list"] li');
  assert.equal(await item.getAttribute('data-status'), 'diverged');
  const json = await exportJson(page);
  const at = json.runs[0].divergedAt;
  assert.ok(at >= 2 && at < 30, `diverged at step ${at}`);
  assert.equal(json.runs[0].steps.at(-1).step, at, 'the trace ends at the divergence');
  assert.match(await item.textContent(), new RegExp(`diverged @ ${at}`));
  assert.match(await page.getByTestId('legend').textContent(), new RegExp(`✕ diverged @ ${at}`));
  // A vertical line has an empty bounding box, which Playwright counts as hidden: wait for it in the DOM.
  await page.locator('[data-chart="loss"] .recharts-reference-line-line').first().waitFor({ state: 'attached' });
  assert.equal(await page.locator('[data-chart="loss"] .recharts-reference-line-line').count(), 1, 'a marker line at the divergence');
  assert.equal(await page.locator('[data-chart="loss"] .recharts-label', { hasText: `✕ diverged @ ${at}` }).count(), 1, 'labelled with its step');
  await screenshot(page, '08-diverged');
  assert.deepEqual(errors, []);
  await context.close();
});

test('a lost device stops the run with a message and keeps its traces; the page goes on on a fresh device', async () => {
  // Keep a handle on the page's device (from outside the app: the page has no test hook) to destroy it.
  const initScript = () => {
    const original = GPUAdapter.prototype.requestDevice;
    globalThis.__e2eDevices = 0;
    GPUAdapter.prototype.requestDevice = async function (...args) {
      const device = await original.apply(this, args);
      globalThis.__e2eDevice = device;
      globalThis.__e2eDevices++;
      return device;
    };
  };
  const { page, context, errors } = await openPage(app.browser, `${app.url}#v=1&n=64&nt=200&s=5000`, { initScript });
  await page.waitForSelector('.adapter-ready');
  await page.getByRole('button', { name: /Run$/ }).click();
  await page.waitForFunction(() => Number(document.querySelector('[data-testid="step"]')?.textContent) >= 10, null, { timeout: 60_000 });
  await page.evaluate(() => globalThis.__e2eDevice.destroy());
  await page.waitForSelector('[data-testid="run-list"] li[data-status="lost"]');
  assert.match(await page.getByTestId('notice').textContent(), /GPU device was lost/);
  const json = await exportJson(page);
  const kept = json.runs[0].steps.length;
  assert.ok(kept >= 10 && kept < 5000, `traces so far are kept (${kept} steps)`);
  assert.ok((await lossCurves(page)).length === 1);
  await screenshot(page, '06-device-lost');
  // A fresh device is opened by itself, and training works again.
  await page.waitForSelector('.adapter-ready');
  assert.equal(await page.evaluate(() => globalThis.__e2eDevices), 2, 'one fresh device after the loss');
  await typeSetting(page, 'steps', 10);
  await page.getByRole('button', { name: /Run$/ }).click();
  await waitRunsFinished(page, 2);
  assert.equal(await page.locator('[data-testid="run-list"] li[data-status="done"]').count(), 1);
  assert.deepEqual(errors, []);
  await context.close();
});
