// PNG export of one chart: the chart's SVG drawn onto a canvas at 2x, under its title and a legend of
// the runs shown (both drawn as text, so the PNG reads on its own).
import { describeRuns } from '../../state/describe.ts';
import { useRunsStore } from '../../state/runsStore.ts';
import { downloadBlob } from '../download.ts';

const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';

export async function downloadChartPng(figure: HTMLElement, name: string): Promise<void> {
  const svg = figure.querySelector<SVGSVGElement>('svg.recharts-surface');
  if (!svg) return;
  const { width, height } = svg.getBoundingClientRect();
  const clone = svg.cloneNode(true) as SVGSVGElement;
  clone.setAttribute('xmlns', 'http://www.w3.org/2000/svg');
  clone.setAttribute('width', String(width));
  clone.setAttribute('height', String(height));
  clone.style.fontFamily = FONT;
  const url = URL.createObjectURL(new Blob([new XMLSerializer().serializeToString(clone)], { type: 'image/svg+xml' }));
  try {
    const img = new Image();
    await new Promise<void>((resolve, reject) => {
      img.onload = () => resolve();
      img.onerror = () => reject(new Error('could not render the chart'));
      img.src = url;
    });
    const runs = useRunsStore.getState().runs.filter((r) => r.visible);
    const { title, labels } = describeRuns(runs.map((r) => r.config));
    const chartTitle = figure.querySelector('.chart-title')?.textContent ?? name;
    const scale = 2;
    const head = 52;
    const canvas = document.createElement('canvas');
    canvas.width = Math.ceil(width * scale);
    canvas.height = Math.ceil((height + head) * scale);
    const g = canvas.getContext('2d')!;
    g.scale(scale, scale);
    g.fillStyle = '#fff';
    g.fillRect(0, 0, width, height + head);
    g.fillStyle = '#1b2330';
    g.font = `600 14px ${FONT}`;
    g.fillText(`${chartTitle}${title ? ' — ' + title : ''}`, 10, 20);
    g.font = `12px ${FONT}`;
    let x = 10;
    runs.forEach((r, i) => {
      g.fillStyle = r.color;
      g.fillRect(x, 33, 14, 4);
      g.fillStyle = '#333';
      const text = `#${r.id} ${labels[i]}`;
      g.fillText(text, x + 18, 40);
      x += 30 + g.measureText(text).width;
    });
    g.drawImage(img, 0, head, width, height);
    const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/png'));
    if (blob) downloadBlob(blob, `lora-playground-${name}.png`);
  } finally {
    URL.revokeObjectURL(url);
  }
}
