// Helpers of the run-history e2e tests (history*.test.mjs): GPU work counted from outside the app, the
// History drawer, downloads, file drops.

/** An init script that counts the page's GPU work and devices (re-installed on every load). */
export const countGpu = () => {
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
export const gpuWork = (page) => page.evaluate(() => globalThis.__gpu);

export const SMALL = '#v=1&n=64&nt=200&s=30&run=';

export async function openHistory(page) {
  const drawer = page.getByTestId('history');
  if (!(await drawer.isVisible())) await page.getByRole('button', { name: /^History/ }).click();
  await drawer.waitFor();
  return drawer;
}

export const historyItems = (page) => page.locator('[data-testid="history"] li.history-item');

export async function download(page, locator) {
  const [d] = await Promise.all([page.waitForEvent('download'), locator.click()]);
  const chunks = [];
  for await (const c of await d.createReadStream()) chunks.push(c);
  return { name: d.suggestedFilename(), bytes: Buffer.concat(chunks) };
}

/** Drop a file onto an element, as a user drags it there from the desktop. */
export async function dropFile(page, selector, name, bytes) {
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

