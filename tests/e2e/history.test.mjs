// End-to-end: run history, stored links, Reproduce and result bundles in headless Chromium on
// SwiftShader. GPU work is counted from outside the app (an init script wraps dispatchWorkgroups, submit
// and requestDevice, as the lost-device test does), so "without recomputation" is checked as zero
// dispatches. Each test opens its own browser context (its own IndexedDB) unless it says otherwise.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { exportJson, launch, openPage, screenshot, serveDist, waitRunsFinished } from './harness.mjs';

let server;
let browser;

before(async () => {
  server = await serveDist();
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await server?.close();
});

/** Counts GPU work and devices of the page (re-installed on every load). */
const countGpu = () => {
  globalThis.__gpu = { dispatches: 0, submits: 0, devices: 0 };
  const wrap = (proto, name, key) => {
    const original = proto[name];
    proto[name] = function (...args) {
      globalThis.__gpu[key]++;
      return original.apply(this, args);
    };
  };
  wrap(GPUComputePassEncoder.prototype, 'dispatchWorkgroups', 'dispatches');
  wrap(GPUQueue.prototype, 'submit', 'submits');
  wrap(GPUAdapter.prototype, 'requestDevice', 'devices');
};
const gpuWork = (page) => page.evaluate(() => globalThis.__gpu);

const SMALL = '#v=1&n=64&nt=200&s=30&run=';

async function openHistory(page) {
  const drawer = page.getByTestId('history');
  if (!(await drawer.isVisible())) await page.getByRole('button', { name: /^History/ }).click();
  await drawer.waitFor();
  return drawer;
}

const historyItems = (page) => page.locator('[data-testid="history"] li.history-item');

async function download(page, locator) {
  const [d] = await Promise.all([page.waitForEvent('download'), locator.click()]);
  const chunks = [];
  for await (const c of await d.createReadStream()) chunks.push(c);
  return { name: d.suggestedFilename(), bytes: Buffer.concat(chunks) };
}

/** Drop a file onto an element, as a user drags it there from the desktop. */
async function dropFile(page, selector, name, bytes) {
  await page.evaluate(
    ([sel, fileName, data]) => {
      const dt = new DataTransfer();
      dt.items.add(new File([new Uint8Array(data)], fileName));
      const target = document.querySelector(sel);
      for (const type of ['dragenter', 'dragover', 'drop']) target.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
    },
    [selector, name, [...bytes]],
  );
}

let first; // a context holding one stored run: the next tests open links and tabs in it

test('a run survives a reload: the same traces, drawn at once without any GPU dispatch', async () => {
  first = await openPage(browser, server.url + SMALL, { initScript: countGpu });
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
  const { page, errors } = await openPage(browser, server.url + SMALL, { context: first.context });
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

  const fresh = await openPage(browser, server.url, { initScript: countGpu });
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
  const a = await openPage(browser, `${server.url}#v=1&n=64&nt=200&s=40&sd=1&run=`);
  const b = await openPage(browser, `${server.url}#v=1&n=64&nt=200&s=40&sd=2&run=`, { context: a.context });
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

/** Storage "fills up" when the test says so: every IndexedDB put then throws QuotaExceededError. */
const quotaSwitch = () => {
  globalThis.__quotaFull = false;
  const put = IDBObjectStore.prototype.put;
  IDBObjectStore.prototype.put = function (...args) {
    if (globalThis.__quotaFull) throw new DOMException('The quota has been exceeded (simulated).', 'QuotaExceededError');
    return put.apply(this, args);
  };
};

/** Start the link's run, let some of it be stored, then fill the storage and let it train on. */
async function fillStorageWhileTraining(page) {
  await page.waitForSelector('.adapter-ready');
  await page.getByRole('button', { name: /Pause/ }).click({ timeout: 60_000 });
  await openHistory(page);
  await page.getByText(/training here · [1-9]\d* steps saved/).waitFor({ timeout: 10_000 });
  await page.evaluate(() => (globalThis.__quotaFull = true));
  await page.getByRole('button', { name: /Resume/ }).click();
}

test('storage full (simulated): a clear message, an offer to delete old runs, never a half-stored run shown as complete', async () => {
  const { page, context, errors } = await openPage(browser, server.url + SMALL, { initScript: quotaSwitch });
  await waitRunsFinished(page, 1);
  await (await openHistory(page)).getByText(/done · 30\/30 steps/).waitFor(); // an older stored run
  // A long run; storage fills up while it trains and stays full until it ends.
  await page.goto('about:blank'); // then a new page load in this tab (a hash change alone would add the run beside the old one)
  await page.goto(`${server.url}#v=1&n=64&nt=200&s=3000&run=`);
  await fillStorageWhileTraining(page);
  const alert = page.getByTestId('history-quota');
  await alert.waitFor({ timeout: 10_000 });
  assert.match(await alert.textContent(), /storage for this page is full: a run could not be saved past this point.*Delete old runs/);
  assert.ok(await alert.getByRole('button', { name: 'Delete the oldest runs' }).isVisible());
  assert.match(await page.getByRole('button', { name: /^History/ }).textContent(), /!/);
  await screenshot(page, 'history-quota');
  await waitRunsFinished(page, 1, 120_000);
  assert.equal(await page.locator('[data-testid="run-list"] li').getAttribute('data-status'), 'done', 'the run itself finished on the page');
  // Reloaded (storage works again): the stored copy reads as interrupted, with the steps it holds.
  await page.reload();
  await waitRunsFinished(page, 1);
  const item = page.locator('[data-testid="run-list"] li');
  assert.equal(await item.getAttribute('data-status'), 'interrupted');
  const kept = (await exportJson(page)).runs[0].steps.length;
  assert.ok(kept >= 1 && kept < 3000, `${kept} steps stored`);
  assert.match(await item.textContent(), /Interrupted at step \d+ of 3000/);

  // Storage full again while a run trains; deleting the oldest runs makes room and saving resumes: complete.
  await page.goto('about:blank'); // then a new page load in this tab (a hash change alone would add the run beside the old one)
  await page.goto(`${server.url}#v=1&n=64&nt=200&s=2500&sd=3&run=`);
  await fillStorageWhileTraining(page);
  await alert.waitFor({ timeout: 10_000 });
  const storedBefore = await historyItems(page).count();
  await page.evaluate(() => (globalThis.__quotaFull = false));
  await alert.getByRole('button', { name: 'Delete the oldest runs' }).click();
  await alert.waitFor({ state: 'detached' });
  assert.equal(await historyItems(page).count(), storedBefore - 1);
  await waitRunsFinished(page, 1, 120_000);
  await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="history"] li.history-item')].some((li) => li.getAttribute('data-status') === 'done' && /2500\/2500 steps/.test(li.textContent)), null, { timeout: 10_000 });
  assert.deepEqual(errors, []);
  await context.close();
});

test('damaged and old-version records are skipped with a message, never a blank page', async () => {
  const { page, context, errors } = await openPage(browser, server.url + SMALL);
  await waitRunsFinished(page, 1);
  await (await openHistory(page)).getByText(/done · 30\/30 steps/).waitFor(); // stored in full
  await page.evaluate(async () => {
    const db = await new Promise((resolve, reject) => {
      const r = indexedDB.open('lora-playground-history');
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
    const tx = db.transaction(['records', 'parts'], 'readwrite');
    const records = tx.objectStore('records');
    const [good] = await new Promise((resolve) => (records.getAll().onsuccess = (e) => resolve(e.target.result)));
    const book = { owner: 'x', updatedAt: Date.now(), rows: 0, parts: 0, bytes: 0, finalLoss: null };
    records.put({ ...good, id: 'broken-config', config: { ...good.config, n: 'wide' } });
    records.put({ ...good, id: 'old-version', v: 0 });
    records.put({ id: 'garbage', kind: 'toy', ...book });
    // The stored run itself loses a part: it is damaged too, and the page shows what it can.
    tx.objectStore('parts').delete([good.id, 0]);
    await new Promise((resolve) => (tx.oncomplete = resolve));
  });
  await page.reload();
  await page.waitForSelector('.adapter-ready');
  await openHistory(page);
  const skipped = page.getByTestId('history-skipped');
  await skipped.waitFor();
  await page.waitForFunction(() => /4 stored records could not be read/.test(document.querySelector('[data-testid="history-skipped"]')?.textContent ?? ''), null, { timeout: 10_000 });
  assert.match(await skipped.textContent(), /could not be read and are skipped/);
  // The page works: the run the link names is trained again (its stored copy was damaged).
  await waitRunsFinished(page, 1);
  assert.equal((await exportJson(page)).runs[0].steps.length, 30);
  await skipped.getByRole('button', { name: 'Remove them' }).click();
  await skipped.waitFor({ state: 'detached' });
  await screenshot(page, 'history-damaged');
  assert.deepEqual(errors, []);
  await context.close();
});

test('without IndexedDB (private browsing) the page works and says history is off', async () => {
  const noIdb = () => Object.defineProperty(globalThis, 'indexedDB', { get: () => undefined, configurable: true });
  const { page, context, errors } = await openPage(browser, server.url + SMALL, { initScript: noIdb });
  await waitRunsFinished(page, 1);
  assert.match(await page.getByRole('button', { name: /^History/ }).textContent(), /History \(off\)/);
  // Bundles still work both ways.
  const file = await download(page, page.getByRole('button', { name: 'Bundle', exact: true }));
  await openHistory(page);
  assert.match(await page.getByTestId('history-off').textContent(), /History is off: this browser gives the page no IndexedDB/);
  await dropFile(page, '[data-testid="bundle-drop"]', file.name, file.bytes);
  await waitRunsFinished(page, 2);
  assert.match(await page.getByTestId('bundle-message').textContent(), /shown without recomputing\./);
  assert.deepEqual(errors, []);
  await context.close();
});

test('the Experiments tab’s sweep and the GPT-2 tab’s runs come back after a reload, and travel as bundles', async () => {
  const { page, context, errors } = await openPage(browser, server.url, { initScript: countGpu });
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
  const fresh = await openPage(browser, server.url, { initScript: countGpu });
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
