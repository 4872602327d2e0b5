// PNG export of a figure: its SVG drawn onto a canvas at 2x, below a header drawn as text (a title, a
// legend, fitted slopes) so that the PNG reads on its own. The charts and the experiments figures use it.
import { downloadBlob } from './download.ts';

export const PNG_FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';

export interface PngHeader {
  /** CSS pixels above the SVG. */
  height: number;
  /** Draws the header; the canvas is already scaled to CSS pixels and filled white. */
  draw(g: CanvasRenderingContext2D): void;
}

export async function downloadSvgPng(svg: SVGSVGElement, header: PngHeader, fileName: string): Promise<void> {
  const { width, height } = svg.getBoundingClientRect();
  const clone = svg.cloneNode(true) as SVGSVGElement;
  clone.setAttribute('xmlns', 'http://www.w3.org/2000/svg');
  clone.setAttribute('width', String(width));
  clone.setAttribute('height', String(height));
  clone.style.fontFamily = PNG_FONT;
  const url = URL.createObjectURL(new Blob([new XMLSerializer().serializeToString(clone)], { type: 'image/svg+xml' }));
  try {
    const img = new Image();
    await new Promise<void>((resolve, reject) => {
      img.onload = () => resolve();
      img.onerror = () => reject(new Error('could not render the figure'));
      img.src = url;
    });
    const scale = 2;
    const canvas = document.createElement('canvas');
    canvas.width = Math.ceil(width * scale);
    canvas.height = Math.ceil((height + header.height) * scale);
    const g = canvas.getContext('2d')!;
    g.scale(scale, scale);
    g.fillStyle = '#fff';
    g.fillRect(0, 0, width, height + header.height);
    header.draw(g);
    g.drawImage(img, 0, header.height, width, height);
    const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/png'));
    if (blob) downloadBlob(blob, fileName);
  } finally {
    URL.revokeObjectURL(url);
  }
}
