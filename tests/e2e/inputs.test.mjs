// End-to-end: the page's inputs refuse what is bad with one message beside the field and change nothing
// else (issue 16). A dropped or chosen text file on the GPT-2 tab that is binary, empty or too short keeps
// the text as it was; a good one replaces it. A toy link opened over existing runs keeps them alongside
// (issue 17).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openPage, screenshot, useApp, waitRunsFinished } from './harness.mjs';

const app = useApp();

/** Drops a file with `bytes` (an array of byte values) on the GPT-2 tab's text field, as a file manager does. */
async function dropFile(page, name, bytes) {
  await page.evaluate(
    ({ name, bytes }) => {
      const dt = new DataTransfer();
      dt.items.add(new File([new Uint8Array(bytes)], name, { type: 'text/plain' }));
      const target = document.querySelector('.g2-drop');
      for (const type of ['dragover', 'drop']) target.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
    },
    { name, bytes },
  );
}

const utf8 = (s) => [...Buffer.from(s, 'utf8')];
const GOOD = 'Shall I compare thee to a summer’s day? Thou art more lovely and more temperate. '.repeat(4);

test('a dropped text file that is not usable text: one message beside the field, the text unchanged', async () => {
  const { page, context, errors } = await openPage(app.browser, app.url);
  await page.waitForSelector('.adapter-ready', { timeout: 60_000 });
  await page.getByRole('tab', { name: 'GPT-2' }).click();
  await page.getByRole('radio', { name: 'My text' }).click();
  const area = page.locator('textarea[name="gpt2-text"]');
  const message = page.locator('.field-error[data-field="text"]');
  await area.fill(GOOD);
  await message.waitFor({ state: 'detached' });

  const bad = [
    ['photo.txt', [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0xff, 0xfe, 0x00, 0x80], /"photo\.txt" is not UTF-8 text .*the text was not changed/],
    ['nul.txt', utf8('abc\u0000def'.repeat(40)), /"nul\.txt" is not text \(it holds NUL bytes/],
    ['empty.txt', [], /"empty\.txt" is empty/],
    ['short.txt', utf8('To be or not to be.'), /"short\.txt": The text is too short .* The text was not changed/],
    ['\u202eevil.txt', [0xc3, 0x28], /"\?evil\.txt" is not UTF-8 text/],
  ];
  for (const [name, bytes, pattern] of bad) {
    await dropFile(page, name, bytes);
    await message.waitFor();
    assert.match(await message.textContent(), pattern, name);
    assert.equal(await message.count(), 1);
    assert.equal(await area.inputValue(), GOOD, `${name}: the text is unchanged`);
  }
  await screenshot(page, 'inputs-dropped-binary');

  // Typing clears the file's message; a good file (chosen through the button) replaces the text.
  await area.fill(GOOD + ' More.');
  await message.waitFor({ state: 'detached' });
  const text = 'From fairest creatures we desire increase, that thereby beauty’s rose might never die. '.repeat(4);
  await page.locator('.g2-drop:not(.g2-adapter) input[type="file"]').setInputFiles({ name: 'sonnet.txt', mimeType: 'text/plain', buffer: Buffer.from(text) });
  await page.waitForFunction((t) => document.querySelector('textarea[name="gpt2-text"]').value === t, text);
  assert.match(await page.locator('.g2-drop:not(.g2-adapter) .g2-drop-foot').textContent(), /sonnet\.txt/);
  assert.equal(await message.count(), 0);
  assert.deepEqual(errors, []);
  await context.close();
});

test('a toy link opened over existing runs keeps them alongside', async () => {
  const small = 'v=1&n=16&r=1&nt=20&ne=5&s=5&te=5';
  const { page, context, errors } = await openPage(app.browser, `${app.url}#${small}&run=i:A&run=i:B`);
  await waitRunsFinished(page, 2);
  await page.evaluate((hash) => (location.hash = hash), `${small}&e=0.01&run=`);
  await waitRunsFinished(page, 3);
  const configs = await page.$$eval('[data-testid="run-list"] li', (lis) => lis.map((li) => li.getAttribute('data-status')));
  assert.deepEqual(configs, ['done', 'done', 'done']);
  assert.deepEqual(errors, []);
  await context.close();
});
