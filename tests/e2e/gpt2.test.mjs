// End-to-end: the GPT-2 tab in headless Chromium on SwiftShader's WebGPU, with the offline tiny model
// (random weights, GPT-2's real tokenizer and vocabulary) on the bundled text: train a few steps, see the
// loss curve, the per-adapter norm heatmap and a generation (with its tokens/s), download the PEFT
// adapter; load it back (a bad file is refused beside the field, changing nothing), evaluate it and
// generate with it. Then the hub models: with the hub unreachable the tab says so instead of crashing.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT, openPage, screenshot, useApp } from './harness.mjs';

const app = useApp();
let main;

async function field(page, name, value) {
  await page.locator(`.g2-settings input[name="${name}"]`).fill(String(value));
}

async function bytesOf(download) {
  const chunks = [];
  for await (const c of await download.createReadStream()) chunks.push(c);
  return Buffer.concat(chunks);
}

test('the GPT-2 tab opens with the tiny model and says what the configuration needs', async () => {
  main = await openPage(app.browser, app.url);
  const { page } = main;
  await page.waitForSelector('.adapter-ready', { timeout: 60_000 });
  await page.getByRole('tab', { name: 'GPT-2' }).click();
  await page.getByTestId('gpt2-tab').waitFor();
  assert.equal(await page.locator('select[name="gpt2-model"]').inputValue(), 'tiny');
  const plan = page.getByTestId('gpt2-plan');
  await page.waitForFunction(() => /Needs \d/.test(document.querySelector('[data-testid="gpt2-plan"]')?.textContent ?? ''), null, { timeout: 30_000 });
  assert.equal(await plan.getAttribute('data-fits'), 'true');
});

test('invalid settings and texts are refused beside the field', async () => {
  const { page } = main;
  await field(page, 'rank', '0');
  const err = page.locator('.field-error[data-field="rank"]');
  await err.waitFor();
  assert.match(await err.textContent(), /Rank r must be between 1 and 256/);
  assert.ok(await page.getByRole('button', { name: /Train$/ }).isDisabled());
  await field(page, 'rank', '100'); // > the tiny model's 64-wide layers
  assert.match(await err.textContent(), /exceeds/);
  await field(page, 'rank', '4');
  await err.waitFor({ state: 'detached' });
  // An enormous batch is planned and refused before anything starts.
  await field(page, 'batch', '64');
  await field(page, 'seq', '256');
  await page.waitForFunction(() => document.querySelector('[data-testid="gpt2-plan"]')?.getAttribute('data-fits') === 'false', null, { timeout: 10_000 });
  assert.match(await page.getByTestId('gpt2-plan').textContent(), /Will not start/);
  assert.ok(await page.getByRole('button', { name: /Train$/ }).isDisabled());
  // Pasted text: empty, then too short.
  await page.getByRole('radio', { name: 'My text' }).click();
  const textErr = page.locator('.field-error[data-field="text"]');
  assert.match(await textErr.textContent(), /empty/);
  await page.locator('textarea[name="gpt2-text"]').fill('To be or not to be.');
  assert.match(await textErr.textContent(), /too short/);
  await page.getByRole('radio', { name: 'Tiny Shakespeare' }).click();
  await textErr.waitFor({ state: 'detached' });
});

test('the tiny model trains on the bundled text: loss, norm heatmap, generations, PEFT adapter', async () => {
  const { page, errors } = main;
  await field(page, 'batch', '2');
  await field(page, 'seq', '16');
  await field(page, 'steps', '6');
  await field(page, 'eta', '0.01');
  await page.locator('input[name="gpt2-prompt"]').fill('ROMEO:');
  await page.waitForFunction(() => document.querySelector('[data-testid="gpt2-plan"]')?.getAttribute('data-fits') === 'true', null, { timeout: 10_000 });
  const t0 = Date.now();
  await page.getByRole('button', { name: 'Compare Init[A] vs Init[B]' }).click();
  await page.getByTestId('gpt2-status-A').waitFor({ timeout: 30_000 });
  await page.waitForFunction(() => ['A', 'B'].every((i) => document.querySelector(`[data-testid="gpt2-status-${i}"]`)?.textContent === 'done'), null, { timeout: 90_000 });
  console.log(`# two tiny runs of 6 steps: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  assert.equal(await page.getByTestId('gpt2-step').first().textContent(), '6');
  // Loss curves (one per init) and the heatmap drawn with every (step, adapter) cell.
  const curves = await page.$$eval('[data-chart="gpt2-loss"] path.recharts-curve', (ps) => ps.filter((p) => (p.getAttribute('d') ?? '').length > 20).length);
  assert.ok(curves >= 2, `loss curves drawn: ${curves}`);
  const cells = Number(await page.getByTestId('gpt2-heatmap').getAttribute('data-cells'));
  assert.equal(cells, 2 * 6 * 2 * 2, 'two runs x 6 steps x 2 layers x 2 modules');
  // Generations: before training and at the end, finished, with text.
  await page.waitForFunction(() => {
    const li = [...document.querySelectorAll('[data-testid="gpt2-generations"] li')];
    return li.length >= 4 && li.every((x) => x.getAttribute('data-pending') === 'false');
  }, null, { timeout: 30_000 });
  const texts = await page.$$eval('[data-testid="gpt2-generations"] .g2-gen-text', (xs) => xs.map((x) => x.textContent));
  assert.ok(texts.every((t) => t.startsWith('ROMEO:') && t.length > 'ROMEO:'.length), JSON.stringify(texts.slice(0, 2)));
  assert.ok(await page.getByText('before training').first().isVisible());
  assert.match(await page.getByTestId('gpt2-gen-rate').first().textContent(), /[\d.]+ tokens\/s/);
  assert.match(await page.getByTestId('gpt2-legend-item').first().textContent(), /linear lr/);
  await screenshot(page, 'gpt2-trained');
  await page.screenshot({ path: join(ROOT, 'tests/artifacts/gpt2-trained-full.png'), fullPage: true });

  // The adapter: two files, the safetensors header parses and names PEFT's tensors.
  const downloads = [];
  page.on('download', (d) => downloads.push(d));
  await page.getByRole('button', { name: 'Download PEFT adapter (Init[A])' }).click();
  for (let i = 0; i < 50 && downloads.length < 3; i++) await page.waitForTimeout(100);
  assert.deepEqual(downloads.map((d) => d.suggestedFilename()).sort(), ['README.md', 'adapter_config.json', 'adapter_model.safetensors']);
  main.adapterFiles = await Promise.all(downloads.map(async (d) => ({ name: d.suggestedFilename(), mimeType: 'application/octet-stream', buffer: await bytesOf(d) })));
  assert.match(main.adapterFiles.find((f) => f.name === 'README.md').buffer.toString('utf8'), /library_name: peft/);
  const cfg = JSON.parse((await bytesOf(downloads.find((d) => d.suggestedFilename() === 'adapter_config.json'))).toString('utf8'));
  assert.equal(cfg.peft_type, 'LORA');
  assert.equal(cfg.r, 4);
  assert.deepEqual([...cfg.target_modules].sort(), ['attn.c_attn', 'mlp.c_fc']);
  const st = await bytesOf(downloads.find((d) => d.suggestedFilename() === 'adapter_model.safetensors'));
  const headerLen = Number(st.readBigUInt64LE(0));
  const header = JSON.parse(st.subarray(8, 8 + headerLen).toString('utf8'));
  const names = Object.keys(header).filter((k) => k !== '__metadata__');
  assert.equal(names.length, 2 * 2 * 2, 'A and B for 2 layers x 2 modules');
  assert.ok(names.includes('base_model.model.transformer.h.0.attn.c_attn.lora_A.weight'), names.join(', '));
  assert.deepEqual(header['base_model.model.transformer.h.0.attn.c_attn.lora_A.weight'].shape, [4, 64]);
  assert.equal(st.length, 8 + headerLen + names.reduce((a, n) => a + header[n].data_offsets[1] - header[n].data_offsets[0], 0));
  assert.deepEqual(errors, []);
});

test('a PEFT adapter is loaded back: a bad file changes nothing; evaluate and generate with the good one', async () => {
  const { page, errors } = main;
  const input = page.locator('input[name="gpt2-adapter-files"]');
  const rank = page.locator('.g2-settings input[name="rank"]');
  await field(page, 'rank', '2');
  // The wrong file: a message beside the field, nothing else changed.
  await input.setInputFiles([{ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('hello') }]);
  const err = page.locator('.field-error[data-field="adapter"]');
  await err.waitFor();
  assert.match(await err.textContent(), /no PEFT adapter here: need adapter_config\.json and adapter_model\.safetensors; got notes\.txt/);
  assert.equal(await rank.inputValue(), '2');
  assert.ok(await rank.isEnabled());
  assert.equal(await page.getByTestId('gpt2-adapter-name').count(), 0);
  // A damaged one (truncated safetensors): the same.
  const files = main.adapterFiles.filter((f) => f.name !== 'README.md');
  const truncated = files.map((f) => (f.name === 'adapter_model.safetensors' ? { ...f, buffer: f.buffer.subarray(0, 200) } : f));
  await input.setInputFiles(truncated);
  await page.waitForFunction(() => /truncated/.test(document.querySelector('.field-error[data-field="adapter"]')?.textContent ?? ''));
  assert.equal(await rank.inputValue(), '2');
  // The real one: its r and modules become the run's (locked), the compare button is off.
  await input.setInputFiles(files);
  await page.getByTestId('gpt2-adapter-name').waitFor();
  await err.waitFor({ state: 'detached' });
  assert.equal(await rank.inputValue(), '4');
  assert.ok(await rank.isDisabled());
  assert.ok(await page.locator('input[name="target-mlp.c_fc"]').isChecked());
  assert.ok(await page.getByRole('button', { name: 'Compare Init[A] vs Init[B]' }).isDisabled());
  await page.getByRole('button', { name: 'Evaluate', exact: true }).click();
  const evaluation = page.getByTestId('gpt2-evaluation');
  await evaluation.waitFor({ timeout: 60_000 });
  assert.match(await evaluation.textContent(), /loss [\d.]+ · perplexity [\d.]+ \(\d+ windows of 16 tokens\)/);
  await page.getByRole('button', { name: 'Generate', exact: true }).click();
  await page.waitForFunction(() => {
    const li = [...document.querySelectorAll('[data-testid="gpt2-generations"] li')];
    return li.length >= 2 && li.every((x) => x.getAttribute('data-pending') === 'false');
  }, null, { timeout: 60_000 });
  assert.ok(await page.getByText('as loaded').first().isVisible());
  await screenshot(page, 'gpt2-adapter-loaded');
  await page.getByRole('button', { name: 'remove' }).click();
  assert.ok(await rank.isEnabled());
  assert.deepEqual(errors, []);
});

test('a hub model that cannot be downloaded says so and the tab keeps working', async () => {
  const { page, context, errors } = main;
  // CI has no network; make that certain (and fast) whatever the machine.
  await context.route('https://huggingface.co/**', (r) => r.abort('internetdisconnected'));
  await page.locator('select[name="gpt2-model"]').selectOption('distilgpt2');
  await page.waitForFunction(() => document.querySelector('[data-testid="gpt2-plan"]')?.getAttribute('data-fits') === 'true', null, { timeout: 10_000 });
  await page.getByRole('button', { name: /Train$/ }).click();
  const failure = page.getByTestId('gpt2-failure');
  await failure.waitFor({ timeout: 30_000 });
  assert.match(await failure.textContent(), /Could not download the model from the Hugging Face hub/);
  assert.ok(await page.getByRole('button', { name: /Train$/ }).isEnabled(), 'the tab is usable again');
  await screenshot(page, 'gpt2-hub-offline');
  const real = errors.filter((e) => !/Failed to load resource|ERR_INTERNET_DISCONNECTED|huggingface/.test(String(e)));
  assert.deepEqual(real, []);
});

test('a GPT-2 share link opens the GPT-2 tab with its settings; a bad one says why', async () => {
  const link = 'gpt2?v=1&m=distilgpt2&txt=shakespeare&t=attn.c_attn,mlp.c_proj&r=4&a=8&rs=1&i=B&e=0.002&l=16&T=64&B=2&s=30&sd=7&cmp=1';
  const { page, context, errors } = await openPage(app.browser, `${app.url}#${link}`);
  await page.getByTestId('gpt2-tab').waitFor({ timeout: 30_000 });
  assert.equal(await page.locator('select[name="gpt2-model"]').inputValue(), 'distilgpt2');
  assert.equal(await page.locator('.g2-settings input[name="rank"]').inputValue(), '4');
  assert.equal(await page.locator('.g2-settings input[name="lambda"]').inputValue(), '16');
  assert.equal(await page.getByRole('radio', { name: 'Init[B]' }).getAttribute('aria-checked'), 'true');
  assert.ok(await page.locator('input[name="target-mlp.c_proj"]').isChecked());
  assert.ok(!(await page.locator('input[name="target-mlp.c_fc"]').isChecked()));
  assert.match(await page.getByTestId('notice').textContent(), /Compare Init\[A\] vs Init\[B\]/);
  // The address bar (and the header's Copy link) follow the tab in view.
  const hash = () => page.evaluate(() => location.hash);
  await page.waitForFunction(() => location.hash.startsWith('#gpt2?'));
  const gpt2Hash = await hash();
  assert.match(gpt2Hash, /[?&]r=4(&|$)/);
  await page.getByRole('tab', { name: 'Playground' }).click();
  await page.waitForFunction(() => location.hash.startsWith('#v=1&'));
  await page.getByRole('tab', { name: 'GPT-2' }).click();
  await page.waitForFunction((h) => location.hash === h, gpt2Hash);
  // A fresh load of a bad link (after it, the address holds the defaults' link, as for the playground).
  await page.goto('about:blank');
  await page.goto(`${app.url}#gpt2?r=0`);
  await page.getByTestId('notice').waitFor();
  assert.match(await page.getByTestId('notice').textContent(), /could not be opened: Rank r must be between/);
  assert.deepEqual(errors, []);
  await context.close();
});
