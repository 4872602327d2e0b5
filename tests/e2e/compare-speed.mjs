// The Playground's "Compare Init[A] vs Init[B]" as a user sees it: how soon each run has steps on the
// chart, and the pair's throughput (both runs' steps over the wall time from opening the link to the last
// run finishing). Not part of `npm test` (minutes on SwiftShader).
// Usage: npx vite build && node tests/e2e/compare-speed.mjs [--n 256] [--steps 200] [--repeat 3]
import { parseArgs } from 'node:util';
import { launch, openPage, serveDist } from './harness.mjs';

const { values } = parseArgs({ options: { n: { type: 'string', default: '256' }, steps: { type: 'string', default: '200' }, repeat: { type: 'string', default: '3' } } });
const steps = Number(values.steps);

async function once(server) {
  const browser = await launch();
  try {
    const { page } = await openPage(browser, `${server.url}#v=1&n=${values.n}&s=${steps}&run=i:A&run=i:B`);
    const t0 = Date.now();
    const firstStep = [null, null];
    for (;;) {
      const rows = await page.evaluate(() =>
        [...document.querySelectorAll('[data-testid="run-list"] li')].map((li) => ({ status: li.getAttribute('data-status'), step: Number(/(\d+)\//.exec(li.querySelector('.run-meta')?.textContent ?? '')?.[1] ?? 0) })),
      );
      rows.forEach((r, i) => {
        if (firstStep[i] === null && r.step > 0) firstStep[i] = (Date.now() - t0) / 1000;
      });
      if (rows.length === 2 && rows.every((r) => ['done', 'diverged', 'error', 'lost'].includes(r.status))) break;
      if (Date.now() - t0 > 900_000) throw new Error('timed out');
      await page.waitForTimeout(100);
    }
    const wall = (Date.now() - t0) / 1000;
    return { firstStepSeconds: firstStep, wallSeconds: wall, pairStepsPerSecond: (2 * steps) / wall };
  } finally {
    await browser.close();
  }
}

const server = await serveDist();
const rounds = [];
for (let i = 0; i < Number(values.repeat); i++) {
  rounds.push(await once(server));
  console.error(`round ${i + 1}: ${JSON.stringify(rounds[i])}`);
}
await server.close();
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(JSON.stringify({ n: Number(values.n), steps, rounds, pairStepsPerSecondMedian: median(rounds.map((r) => r.pairStepsPerSecond)), secondRunFirstStepMedian: median(rounds.map((r) => r.firstStepSeconds[1])) }));
