// End-to-end: run history in headless Chromium on SwiftShader: a run survives a reload, a link matching a
// stored run opens it and Reproduce earns its badge, a bundle travels to a fresh profile, History shows,
// hides, deletes and clears, two tabs train at once. GPU work is counted from outside the app (an init
// script wraps dispatchWorkgroups, submit and requestDevice, as the lost-device test does), so "without
// recomputation" is checked as zero dispatches. Each test opens its own browser context (its own
// IndexedDB) unless it says otherwise.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { exportJson, openPage, screenshot, useApp, waitRunsFinished } from './harness.mjs';
import { countGpu, download, dropFile, gpuWork, historyItems, openHistory, SMALL } from './historyHelpers.mjs';

const app = useApp();

let first; // a context holding one stored run: the next tests open links and tabs in it

test('a run survives a reload: the same traces, drawn at once without any GPU dispatch', async () => {
  first = await openPage(app.browser, app.url + SMALL, { initScript: countGpu });
  const { page, errors } = first;
  await waitRunsFinished(page, 1);
  const trained = await exportJson(page);
  assert.ok((await gpuWork(page)).dispatches > 0);
  await (await openHistory(page)).getByText(/done · 30\/30 steps/).waitFor();
  const t0 = Date.now();
  await page.reload();
  await waitRunsFinished(page, 1);
  const ms = Date.now() - t0;
  const restored = await exportJson(page);
  assert.deepEqual(restored.runs[0].steps, trained.runs[0].steps, 'every step, bit for bit');
  assert.deepEqual(restored.runs[0].config, trained.runs[0].config);
  const work = await gpuWork(page);
  assert.equal(work.dispatches, 0, 'no dispatch');
  assert.equal(work.submits, 0, 'no submit');
  assert.ok(work.devices <= 1, 'only the page’s own device probe');
  console.log(`# reload to restored run: ${ms} ms; ${JSON.stringify(work)}`);
  assert.match(await page.locator('[data-testid="run-list"] li').textContent(), /done.*30\/30 steps.*stored/);
  await page.locator('[data-chart="loss"] path.recharts-curve').first().waitFor();
  assert.deepEqual(errors, []);
});

test('a link matching a stored run opens it instantly; Reproduce earns “bit-identical”', async () => {
  const { page, errors } = await openPage(app.browser, app.url + SMALL, { context: first.context });
  await waitRunsFinished(page, 1);
  assert.equal((await gpuWork(page)).dispatches, 0, 'shown from the history, not trained');
  assert.match(await page.getByTestId('notice').textContent(), /stored \(same settings, engine and adapter\) and shown without recomputing/);
  await page.getByRole('button', { name: 'Reproduce run 1' }).click();
  await waitRunsFinished(page, 2, 120_000);
  const badge = page.getByTestId('repro-badge');
  await page.waitForFunction(() => document.querySelector('[data-testid="repro-badge"]')?.getAttribute('data-verdict') !== 'none' && !/comparing/.test(document.querySelector('[data-testid="repro-badge"]')?.textContent ?? ''));
  assert.equal(await badge.getAttribute('data-verdict'), 'bit-identical', await badge.textContent());
  assert.match(await badge.textContent(), /bit-identical \(30 steps\) vs #1/);
  assert.ok((await gpuWork(page)).dispatches > 0, 'the reproduction trained');
  await screenshot(page, 'history-reproduced');
  const json = await exportJson(page);
  assert.deepEqual(json.runs[1].steps, json.runs[0].steps);
  // The reproduction is stored too, with its verdict.
  await (await openHistory(page)).getByText(/reproduced bit-identical/).waitFor();
  assert.deepEqual(errors, []);
  await page.close();
});

test('a bundle exported and dropped into a fresh profile shows the same charts; a bad file only gets a message', async () => {
  const { page } = first;
  const original = await exportJson(page);
  const file = await download(page, page.getByRole('button', { name: 'Bundle', exact: true }));
  assert.match(file.name, /^lora-playground-toy-runs-.*\.bundle\.json$/);
  const json = JSON.parse(file.bytes.toString('utf8'));
  assert.equal(json.format, 'lora-playground-bundle');
  assert.equal(json.runs[0].trace.loss.f32.length > 0, true);

  const fresh = await openPage(app.browser, app.url, { initScript: countGpu });
  await fresh.page.waitForSelector('.adapter-ready', { timeout: 60_000 });
  await openHistory(fresh.page);
  // Not a bundle: one message beside the drop zone, nothing else changes.
  await dropFile(fresh.page, '[data-testid="bundle-drop"]', 'notes.json', Buffer.from('{"format": "something else"}'));
  await fresh.page.getByTestId('bundle-message').waitFor();
  assert.match(await fresh.page.getByTestId('bundle-message').textContent(), /notes\.json was not opened: it is not a result bundle/);
  assert.equal(await fresh.page.locator('[data-testid="run-list"] li').count(), 0);
  assert.equal(await historyItems(fresh.page).count(), 0);
  const truncated = file.bytes.subarray(0, file.bytes.length - 200);
  await fresh.page.locator('input[name="bundle-file"]').setInputFiles({ name: 'cut.json', mimeType: 'application/json', buffer: truncated });
  await fresh.page.waitForFunction(() => /cut\.json was not opened: it is not valid JSON/.test(document.querySelector('[data-testid="bundle-message"]')?.textContent ?? ''));
  assert.equal(await fresh.page.locator('[data-testid="run-list"] li').count(), 0);

  await dropFile(fresh.page, '[data-testid="bundle-drop"]', file.name, file.bytes);
  await waitRunsFinished(fresh.page, original.runs.length);
  assert.match(await fresh.page.getByTestId('bundle-message').textContent(), /shown without recomputing and kept in History/);
  const shown = await exportJson(fresh.page);
  assert.deepEqual(shown.runs.map((r) => r.steps), original.runs.map((r) => r.steps));
  assert.deepEqual(shown.runs.map((r) => r.config), original.runs.map((r) => r.config));
  assert.equal(await fresh.page.locator('[data-chart="loss"] path.recharts-curve:not([stroke-dasharray])').count() >= original.runs.length, true);
  assert.equal((await gpuWork(fresh.page)).dispatches, 0);
  assert.equal(await historyItems(fresh.page).count(), original.runs.length, 'kept in this profile’s history');
  await screenshot(fresh.page, 'history-bundle-dropped');
  assert.deepEqual(fresh.errors, []);
  await fresh.context.close();
});

test('History: show and hide stored runs, delete one, clear all', async () => {
  const { page, errors } = first;
  await openHistory(page);
  const items = historyItems(page);
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="history"] li.history-item').length === 2); // the run and its reproduction (another tab's)
  const runList = (n) => page.waitForFunction((k) => document.querySelectorAll('[data-testid="run-list"] li').length === k, n);
  const before = await gpuWork(page);
  // Newest first: the reproduction, not shown in this tab yet; then the run this tab shows.
  assert.equal(await items.nth(0).getByRole('checkbox').isChecked(), false);
  assert.equal(await items.nth(1).getByRole('checkbox').isChecked(), true);
  await items.nth(0).getByRole('checkbox').click();
  await runList(2);
  await items.nth(1).getByRole('checkbox').click();
  await runList(1);
  assert.equal(await items.count(), 2, 'hidden, still stored');
  await items.nth(1).getByRole('checkbox').click();
  await runList(2);
  assert.equal((await gpuWork(page)).dispatches, before.dispatches, 'shown without recomputing');
  // Delete one: gone from the list, the charts and (after a reload) for good.
  assert.match(await page.getByTestId('history-storage').textContent(), /^2 stored · [\d.]+ [KM]iB used of the/);
  await items.nth(0).getByRole('button', { name: /^Delete/ }).click();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="history"] li.history-item').length === 1);
  await runList(1);
  await page.waitForFunction(() => location.hash.split('&run=').length === 2, null, { timeout: 5000 }); // the link names one run
  await page.reload();
  await waitRunsFinished(page, 1);
  await openHistory(page);
  assert.equal(await historyItems(page).count(), 1);
  // Clear all (after a confirmation).
  page.once('dialog', (d) => d.accept());
  await page.getByRole('button', { name: 'Clear all' }).click();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="history"] li.history-item').length === 0);
  await runList(0);
  assert.match(await page.getByTestId('history-storage').textContent(), /^0 stored/);
  await page.waitForFunction(() => !location.hash.includes('&run='), null, { timeout: 5000 }); // the link no longer names them
  await page.reload();
  await page.waitForSelector('.adapter-ready');
  await page.waitForTimeout(1000);
  assert.equal(await page.locator('[data-testid="run-list"] li').count(), 0, 'nothing comes back');
  assert.deepEqual(errors, []);
  await first.context.close();
});

test('two tabs train at once: each keeps its own runs, neither corrupts the other', async () => {
  const a = await openPage(app.browser, `${app.url}#v=1&n=64&nt=200&s=40&sd=1&run=`);
  const b = await openPage(app.browser, `${app.url}#v=1&n=64&nt=200&s=40&sd=2&run=`, { context: a.context });
  await Promise.all([waitRunsFinished(a.page, 1, 120_000), waitRunsFinished(b.page, 1, 120_000)]);
  const [ja, jb] = [await exportJson(a.page), await exportJson(b.page)];
  assert.notDeepEqual(ja.runs[0].steps, jb.runs[0].steps);
  // Each tab's History lists both runs (the other tab's arrived over its broadcast).
  for (const t of [a, b]) {
    await openHistory(t.page);
    await t.page.waitForFunction(() => document.querySelectorAll('[data-testid="history"] li.history-item[data-status="done"]').length === 2, null, { timeout: 10_000 });
  }
  // Reloaded, each tab shows its own run again, bit for bit; nothing was skipped as damaged.
  await Promise.all([a.page.reload(), b.page.reload()]);
  await Promise.all([waitRunsFinished(a.page, 1), waitRunsFinished(b.page, 1)]);
  assert.deepEqual((await exportJson(a.page)).runs[0].steps, ja.runs[0].steps);
  assert.deepEqual((await exportJson(b.page)).runs[0].steps, jb.runs[0].steps);
  await openHistory(a.page);
  assert.equal(await a.page.getByTestId('history-skipped').count(), 0);
  assert.deepEqual([...a.errors, ...b.errors], []);
  await a.context.close();
});

