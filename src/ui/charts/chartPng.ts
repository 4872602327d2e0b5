// PNG export of one training chart, under its title and a legend of the runs shown.
import { describeRuns } from '../../state/describe.ts';
import { useRunsStore } from '../../state/runsStore.ts';
import { downloadSvgPng, PNG_FONT } from '../svgPng.ts';

export async function downloadChartPng(figure: HTMLElement, name: string): Promise<void> {
  const svg = figure.querySelector<SVGSVGElement>('svg.recharts-surface');
  if (!svg) return;
  const runs = useRunsStore.getState().runs.filter((r) => r.visible);
  const { title, labels } = describeRuns(runs.map((r) => r.config));
  const chartTitle = figure.querySelector('.chart-title')?.textContent ?? name;
  const draw = (g: CanvasRenderingContext2D) => {
    g.fillStyle = '#1b2330';
    g.font = `600 14px ${PNG_FONT}`;
    g.fillText(`${chartTitle}${title ? ' — ' + title : ''}`, 10, 20);
    g.font = `12px ${PNG_FONT}`;
    let x = 10;
    runs.forEach((r, i) => {
      g.fillStyle = r.color;
      g.fillRect(x, 33, 14, 4);
      g.fillStyle = '#333';
      const text = `#${r.id} ${labels[i]}`;
      g.fillText(text, x + 18, 40);
      x += 30 + g.measureText(text).width;
    });
  };
  await downloadSvgPng(svg, { height: 52, draw }, `lora-playground-${name}.png`);
}
