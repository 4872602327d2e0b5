// PNG export of one experiments figure (a recharts chart or the heatmap), under its title and fit lines.
import { downloadSvgPng, PNG_FONT } from '../svgPng.ts';

export async function downloadFigurePng(figure: HTMLElement, name: string): Promise<void> {
  const svg = figure.querySelector<SVGSVGElement>('svg.recharts-surface, svg.heatmap-svg');
  if (!svg) return;
  const title = figure.querySelector('.chart-title')?.textContent ?? name;
  const fits = [...figure.querySelectorAll('.fit-line')].map((e) => e.textContent ?? '');
  const draw = (g: CanvasRenderingContext2D) => {
    g.fillStyle = '#1b2330';
    g.font = `600 14px ${PNG_FONT}`;
    g.fillText(title, 10, 20);
    g.font = `12px ${PNG_FONT}`;
    g.fillStyle = '#333';
    fits.forEach((t, i) => g.fillText(t, 10, 38 + 16 * i));
  };
  await downloadSvgPng(svg, { height: 30 + 16 * fits.length, draw }, `lora-playground-sweep-${name}.png`);
}
