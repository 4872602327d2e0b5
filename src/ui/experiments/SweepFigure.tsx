// The frame of every experiments figure: title, PNG button (figurePng.ts renders the whole frame).
import { useRef, type ReactNode } from 'react';
import { downloadFigurePng } from './figurePng.ts';

export function SweepFigure({ id, title, children }: { id: string; title: string; children: ReactNode }) {
  const box = useRef<HTMLElement>(null);
  return (
    <figure className="chart sweep-figure" ref={box} data-figure={id}>
      <figcaption className="chart-head">
        <span className="chart-title">{title}</span>
        <span className="chart-tools">
          <button className="link-btn" onClick={() => box.current && void downloadFigurePng(box.current, id)}>
            PNG
          </button>
        </span>
      </figcaption>
      {children}
    </figure>
  );
}
