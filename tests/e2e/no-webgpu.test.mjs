// Without WebGPU the page explains what is missing and how to get it: no crash, no blank page.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launch, openPage, screenshot, serveDist } from './harness.mjs';

let server;
before(async () => {
  server = await serveDist();
});
after(async () => {
  await server?.close();
});

test('WebGPU disabled (no adapter granted): the no-WebGPU page appears', async () => {
  const browser = await launch({ webgpu: false });
  try {
    const { page, errors } = await openPage(browser, server.url);
    const card = page.getByTestId('no-webgpu');
    await card.waitFor({ timeout: 30_000 });
    const text = await card.textContent();
    assert.match(text, /needs WebGPU/);
    assert.match(text, /gave the page no GPU adapter/);
    assert.match(text, /chrome:\/\/flags\/#enable-unsafe-webgpu/);
    assert.match(await page.getByTestId('adapter').textContent(), /no WebGPU/);
    await screenshot(page, '07-no-webgpu');
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

test('a browser without navigator.gpu: the no-WebGPU page says the API is missing', async () => {
  const browser = await launch({ webgpu: false });
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    await context.addInitScript(() => {
      delete Object.getPrototypeOf(navigator).gpu;
      delete navigator.gpu;
    });
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e));
    await page.goto(server.url);
    assert.equal(await page.evaluate(() => navigator.gpu), undefined);
    const card = page.getByTestId('no-webgpu');
    await card.waitFor({ timeout: 30_000 });
    assert.match(await card.textContent(), /This browser does not offer WebGPU/);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});
