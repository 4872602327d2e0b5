// End-to-end: run history when things go wrong: storage full (simulated: every IndexedDB put throws
// QuotaExceededError once the test says so), damaged and old-version records, no IndexedDB at all.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { exportJson, openPage, screenshot, useApp, waitRunsFinished } from './harness.mjs';
import { download, dropFile, historyItems, openHistory, SMALL } from './historyHelpers.mjs';

const app = useApp();

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
  const { page, context, errors } = await openPage(app.browser, app.url + SMALL, { initScript: quotaSwitch });
  await waitRunsFinished(page, 1);
  await (await openHistory(page)).getByText(/done · 30\/30 steps/).waitFor(); // an older stored run
  // A long run; storage fills up while it trains and stays full until it ends.
  await page.goto('about:blank'); // then a new page load in this tab (a hash change alone would add the run beside the old one)
  await page.goto(`${app.url}#v=1&n=64&nt=200&s=3000&run=`);
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
  await page.goto(`${app.url}#v=1&n=64&nt=200&s=2500&sd=3&run=`);
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
  const { page, context, errors } = await openPage(app.browser, app.url + SMALL);
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
  const { page, context, errors } = await openPage(app.browser, app.url + SMALL, { initScript: noIdb });
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

