// PNG export of one experiments figure: its SVG (a recharts chart or the heatmap) drawn onto a canvas
// at 2x under the figure's title and caption line, the approach of the Playground's chart export.
import { downloadBlob } from '../download.ts';

const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';

export async function downloadFigurePng(figure: HTMLElement, name: string): Promise<void> {
  const svg = figure.querySelector<SVGSVGElement>('svg.recharts-surface, svg.heatmap-svg');
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
      img.onerror = () => reject(new Error('could not render the figure'));
      img.src = url;
    });
    const title = figure.querySelector('.chart-title')?.textContent ?? name;
    const fits = [...figure.querySelectorAll('.fit-line')].map((e) => e.textContent ?? '');
    const scale = 2;
    const head = 30 + 16 * fits.length;
    const canvas = document.createElement('canvas');
    canvas.width = Math.ceil(width * scale);
    canvas.height = Math.ceil((height + head) * scale);
    const g = canvas.getContext('2d')!;
    g.scale(scale, scale);
    g.fillStyle = '#fff';
    g.fillRect(0, 0, width, height + head);
    g.fillStyle = '#1b2330';
    g.font = `600 14px ${FONT}`;
    g.fillText(title, 10, 20);
    g.font = `12px ${FONT}`;
    g.fillStyle = '#333';
    fits.forEach((t, i) => g.fillText(t, 10, 38 + 16 * i));
    g.drawImage(img, 0, head, width, height);
    const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/png'));
    if (blob) downloadBlob(blob, `lora-playground-sweep-${name}.png`);
  } finally {
    URL.revokeObjectURL(url);
  }
}
