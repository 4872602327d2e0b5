// Screenshots of the papers' presets for docs/screenshots/ (not part of `npm test`: the presets train
// for a minute or two each on SwiftShader). Usage: npx vite build && node tests/e2e/screenshots.mjs [outdir]
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { launch, openPage, ROOT, serveDist, waitRunsFinished } from './harness.mjs';

const out = process.argv[2] ?? join(ROOT, 'docs/screenshots');
mkdirSync(out, { recursive: true });
const server = await serveDist();
const browser = await launch();
try {
  for (const [preset, file, hoverAt] of [
    ['init-8192', 'playground-init-a-vs-init-b.png', 0.3],
    ['loraplus-wide', 'playground-loraplus.png', 0.7],
  ]) {
    const { page, context, errors } = await openPage(browser, server.url);
    await page.waitForSelector('.adapter-ready', { state: 'attached', timeout: 60_000 });
    await page.locator('#preset').selectOption(preset);
    await page.getByRole('button', { name: 'Run preset' }).click();
    await waitRunsFinished(page, 2, 900_000);
    await page.getByRole('button', { name: 'Dismiss' }).click();
    const box = await page.locator('[data-chart="features"] .recharts-surface').boundingBox();
    await page.mouse.move(box.x + box.width * hoverAt, box.y + box.height * 0.5);
    await page.locator('.readout').waitFor();
    await page.screenshot({ path: join(out, file) });
    if (errors.length) throw new Error(errors.map(String).join('\n'));
    await context.close();
  }
} finally {
  await browser.close();
  await server.close();
}
console.log(`screenshots in ${out}`);
