// Steps/s of the page against the CLI at the same configuration. Not part of `npm test` (minutes on
// SwiftShader). Usage: npx vite build && node tests/e2e/ui-speed.mjs [--n 64] [--steps 200] [--repeat 3]
//
// The page trains the single run of a share link to the end; its rate (steps / wall time spent
// training, as the CLI counts it: from start to the last metrics) comes from the page's JSON export.
// The CLI's rate is what `cli train` prints on stderr. The two alternate, so load drift hits both.
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { exportJson, launch, openPage, ROOT, serveDist, waitRunsFinished } from './harness.mjs';

const { values } = parseArgs({ options: { n: { type: 'string', default: '64' }, steps: { type: 'string', default: '200' }, repeat: { type: 'string', default: '3' } } });

function cliRate() {
  const err = execFileSync('bash', ['-c', `npm run --silent cli -- train --n ${values.n} --steps ${values.steps} --json 2>&1 >/dev/null`], { cwd: ROOT, encoding: 'utf8' });
  const m = /([\d.]+) steps\/s/.exec(err);
  if (!m) throw new Error(`no rate in the CLI's output: ${err}`);
  return Number(m[1]);
}

async function pageRate(server) {
  const browser = await launch();
  try {
    const { page } = await openPage(browser, `${server.url}#v=1&n=${values.n}&s=${values.steps}&run=`);
    await waitRunsFinished(page, 1, 600_000);
    return (await exportJson(page)).runs[0].stepsPerSecond;
  } finally {
    await browser.close();
  }
}

const server = await serveDist();
const cli = [];
const page = [];
for (let i = 0; i < Number(values.repeat); i++) {
  cli.push(cliRate());
  page.push(await pageRate(server));
  console.error(`round ${i + 1}: cli ${cli[i]} steps/s, page ${page[i]} steps/s`);
}
await server.close();
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(JSON.stringify({ n: Number(values.n), steps: Number(values.steps), cli, page, cliMedian: median(cli), pageMedian: median(page), pageOverCli: Number((median(page) / median(cli)).toFixed(3)) }));
