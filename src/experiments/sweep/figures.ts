// Static figures of a SweepResult as SVG strings (no DOM, no dependencies): the pictures the playground's
// views show, for the CLI's --png output and the findings page. The CLI rasterises them with Chromium.
import { viridis } from './viridis.ts';
import type { E6Row, Heatmap, LogLogFit, RefLine, SeedFits, SweepResult } from './aggregate.ts';

export interface Figure {
  name: string;
  title: string;
  svg: string;
}

const W = 720;
const H = 440;
const M = { left: 78, right: 230, top: 46, bottom: 58 };
const FONT = 'font-family="DejaVu Sans, Liberation Sans, Arial, sans-serif"';
const COLORS = { A: '#1f77b4', B: '#d62728', extra: ['#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#17becf', '#e377c2'] };

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const f3 = (v: number) => Number(v.toPrecision(3)).toString();

function fmtTick(v: number): string {
  if (v === 0) return '0';
  if (Number.isInteger(v) && Math.abs(v) < 1e5) return String(v);
  const e = Math.floor(Math.log10(Math.abs(v)) + 1e-9);
  if (e >= -2 && e <= 4) return Number(v.toPrecision(3)).toString();
  const m = v / 10 ** e;
  return Math.abs(m - 1) < 1e-9 ? `1e${e}` : `${Number(m.toPrecision(2))}e${e}`;
}

/** Decade ticks (and 2, 5 between them when the range is short) covering [lo, hi]. */
function logTicks(lo: number, hi: number): number[] {
  const a = Math.floor(Math.log10(lo) + 1e-9);
  const b = Math.ceil(Math.log10(hi) - 1e-9);
  const out: number[] = [];
  const mult = b - a <= 3 ? [1, 2, 5] : [1];
  for (let e = a; e <= b; e++) for (const m of mult) {
    const v = m * 10 ** e;
    if (v >= lo * 0.999 && v <= hi * 1.001) out.push(v);
  }
  return out.length >= 2 ? out : [lo, hi];
}

interface Scale {
  lo: number;
  hi: number;
  px: (v: number) => number;
}

function logScale(values: number[], from: number, to: number, pad = 0.06): Scale {
  const ok = values.filter((v) => v > 0 && Number.isFinite(v));
  let lo = Math.log10(Math.min(...ok));
  let hi = Math.log10(Math.max(...ok));
  if (!(hi > lo)) {
    lo -= 0.5;
    hi += 0.5;
  }
  const span = hi - lo;
  lo -= span * pad;
  hi += span * pad;
  return { lo: 10 ** lo, hi: 10 ** hi, px: (v) => from + ((Math.log10(v) - lo) / (hi - lo)) * (to - from) };
}

function frame(title: string, body: string, w = W, h = H): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" ${FONT} font-size="12"><rect width="${w}" height="${h}" fill="#fff"/><text x="${w / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${esc(title)}</text>${body}</svg>`;
}

function axes(x: Scale, y: Scale, xLabel: string, yLabel: string, xTicks: number[], yTicks: number[]): string {
  const x0 = M.left;
  const x1 = W - M.right;
  const y0 = H - M.bottom;
  const y1 = M.top;
  let s = `<rect x="${x0}" y="${y1}" width="${x1 - x0}" height="${y0 - y1}" fill="none" stroke="#333"/>`;
  for (const t of xTicks) {
    const px = x.px(t);
    s += `<line x1="${px}" x2="${px}" y1="${y1}" y2="${y0}" stroke="#e5e5e5"/><line x1="${px}" x2="${px}" y1="${y0}" y2="${y0 + 5}" stroke="#333"/><text x="${px}" y="${y0 + 18}" text-anchor="middle">${fmtTick(t)}</text>`;
  }
  for (const t of yTicks) {
    const py = y.px(t);
    s += `<line x1="${x0}" x2="${x1}" y1="${py}" y2="${py}" stroke="#e5e5e5"/><line x1="${x0 - 5}" x2="${x0}" y1="${py}" y2="${py}" stroke="#333"/><text x="${x0 - 8}" y="${py + 4}" text-anchor="end">${fmtTick(t)}</text>`;
  }
  s += `<text x="${(x0 + x1) / 2}" y="${H - 16}" text-anchor="middle">${esc(xLabel)}</text>`;
  s += `<text transform="translate(18 ${(y0 + y1) / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`;
  return s;
}

interface Series {
  label: string;
  color: string;
  points: Array<{ x: number; y: number | null; hollow?: boolean }>;
  fit?: LogLogFit | null;
  dashed?: boolean;
  /** Marker shape (default circle); `size` is its half-width in px (default 4.5). */
  marker?: 'circle' | 'square';
  size?: number;
  /** Join the points with a line (in x order). */
  connect?: boolean;
  /** Per point, a vertical bar from lo to hi (e.g. the seeds' range). */
  bars?: Array<[number, number] | null>;
}

function marker(s: Series, cx: number, cy: number, fill: string): string {
  const r = s.size ?? 4.5;
  return s.marker === 'square'
    ? `<rect x="${cx - r}" y="${cy - r}" width="${2 * r}" height="${2 * r}" fill="${fill}" stroke="${s.color}" stroke-width="1.6"/>`
    : `<circle cx="${cx}" cy="${cy}" r="${r}" fill="${fill}" stroke="${s.color}" stroke-width="1.6"/>`;
}

/** A log-log chart: points (hollow = flagged), their fitted lines (solid) and reference slopes (dotted). */
function logLogChart(o: { title: string; xLabel: string; yLabel: string; series: Series[]; refs?: RefLine[]; xTicks?: number[]; note?: string }): string {
  const xs = o.series.flatMap((s) => s.points.map((p) => p.x));
  const ys = o.series.flatMap((s) => [...s.points.map((p) => p.y), ...(s.bars ?? []).flat()]).filter((v): v is number => v !== null && v > 0);
  if (!xs.length || !ys.length) return frame(o.title, `<text x="${W / 2}" y="${H / 2}" text-anchor="middle">no finite values to plot</text>`);
  const x = logScale(xs, M.left, W - M.right);
  const y = logScale(ys, H - M.bottom, M.top, 0.1);
  const clip = `<clipPath id="plot"><rect x="${M.left}" y="${M.top}" width="${W - M.left - M.right}" height="${H - M.top - M.bottom}"/></clipPath>`;
  let body = clip + axes(x, y, o.xLabel, o.yLabel, o.xTicks ?? logTicks(x.lo, x.hi), logTicks(y.lo, y.hi));
  const line = (intercept: number, slope: number, attrs: string) => {
    const p = (xv: number) => `${x.px(xv)},${y.px(10 ** (intercept + slope * Math.log10(xv)))}`;
    return `<polyline clip-path="url(#plot)" points="${p(x.lo)} ${p(x.hi)}" fill="none" ${attrs}/>`;
  };
  const legend: string[] = [];
  for (const r of o.refs ?? []) {
    body += line(r.intercept, r.slope, 'stroke="#888" stroke-width="1.2" stroke-dasharray="2 4"');
    legend.push(`<line x1="0" x2="22" y1="0" y2="0" stroke="#888" stroke-dasharray="2 4"/><text x="28" y="4">${esc(r.label)} (slope ${r.slope})</text>`);
  }
  for (const s of o.series) {
    if (s.fit) body += line(s.fit.intercept, s.fit.slope, `stroke="${s.color}" stroke-width="1.5"${s.dashed ? ' stroke-dasharray="6 4"' : ''}`);
    if (s.connect) {
      const pts = s.points.filter((p) => p.y !== null && p.y > 0).map((p) => `${x.px(p.x)},${y.px(p.y as number)}`);
      body += `<polyline clip-path="url(#plot)" points="${pts.join(' ')}" fill="none" stroke="${s.color}" stroke-width="1.6"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`;
    }
    s.bars?.forEach((b, i) => {
      if (!b || !(b[0] > 0)) return;
      const px = x.px(s.points[i].x);
      body += `<line x1="${px}" x2="${px}" y1="${y.px(b[0])}" y2="${y.px(b[1])}" stroke="${s.color}" stroke-width="1.3"/><line x1="${px - 4}" x2="${px + 4}" y1="${y.px(b[0])}" y2="${y.px(b[0])}" stroke="${s.color}"/><line x1="${px - 4}" x2="${px + 4}" y1="${y.px(b[1])}" y2="${y.px(b[1])}" stroke="${s.color}"/>`;
    });
    for (const p of s.points) {
      if (p.y === null || !(p.y > 0)) continue;
      body += marker(s, x.px(p.x), y.px(p.y), p.hollow ? '#fff' : s.color);
    }
    const allHollow = s.points.length > 0 && s.points.every((p) => p.hollow);
    legend.push(`${marker(s, 11, 0, allHollow ? '#fff' : s.color)}<text x="28" y="4">${esc(s.label)}</text>`);
    if (s.fit) legend.push(`<line x1="0" x2="22" y1="0" y2="0" stroke="${s.color}" stroke-width="1.5"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/><text x="28" y="4">fit: slope ${f3(s.fit.slope)}${s.fit.slopeStderr !== null ? ` ± ${f3(s.fit.slopeStderr)}` : ''}</text>`);
  }
  body += legendBlock(legend);
  if (o.note) body += `<text x="${W - M.right + 14}" y="${H - M.bottom - 12}" font-size="10" fill="#555">${wrap(o.note, 34).map((l, i) => `<tspan x="${W - M.right + 14}" dy="${i ? 12 : 0}">${esc(l)}</tspan>`).join('')}</text>`;
  return frame(o.title, body);
}

function legendBlock(items: string[]): string {
  return items.map((it, i) => `<g transform="translate(${W - M.right + 14} ${M.top + 10 + i * 20})">${it}</g>`).join('');
}

function wrap(text: string, width: number): string[] {
  const words = text.split(/\s+/);
  const lines: string[] = [];
  let cur = '';
  for (const w of words) {
    if ((cur + ' ' + w).trim().length > width && cur) {
      lines.push(cur);
      cur = w;
    } else cur = (cur + ' ' + w).trim();
  }
  if (cur) lines.push(cur);
  return lines;
}

/** A heatmap with a log colour scale (low = dark), diverged cells crossed out, each row's best outlined. */
function heatmapSvg(h: Heatmap, title: string, note?: string): string {
  const nx = h.x.values.length;
  const ny = h.y.values.length;
  const x0 = M.left;
  const x1 = W - M.right;
  const y0 = H - M.bottom;
  const y1 = M.top;
  const cw = (x1 - x0) / nx;
  const ch = (y0 - y1) / ny;
  const { min, max } = h.value;
  const lmin = min !== null ? Math.log10(min) : 0;
  const lmax = max !== null ? Math.log10(max) : 1;
  const t = (v: number) => (lmax > lmin ? (Math.log10(v) - lmin) / (lmax - lmin) : 0.5);
  let body = '';
  for (const c of h.cells) {
    const cx = x0 + c.xi * cw;
    const cy = y0 - (c.yi + 1) * ch;
    if (c.value !== null) {
      const fill = viridis(t(c.value));
      body += `<rect x="${cx}" y="${cy}" width="${cw}" height="${ch}" fill="${fill}"/>`;
      const light = t(c.value) > 0.6;
      body += `<text x="${cx + cw / 2}" y="${cy + ch / 2 + 4}" text-anchor="middle" font-size="${cw < 50 ? 9 : 10}" fill="${light ? '#000' : '#fff'}">${fmtTick(Number(c.value.toPrecision(2)))}</text>`;
    } else if (c.status === 'error' || c.status === 'queued') {
      // Not run (left out of this width's grid, refused or failed) or not finished: no cross.
      body += `<rect x="${cx}" y="${cy}" width="${cw}" height="${ch}" fill="#f3f3f3"/><text x="${cx + cw / 2}" y="${cy + ch / 2 + 4}" text-anchor="middle" font-size="9" fill="#777">${c.status === 'error' ? 'not run' : 'queued'}</text>`;
    } else {
      body += `<rect x="${cx}" y="${cy}" width="${cw}" height="${ch}" fill="#ddd"/><path d="M${cx + 4} ${cy + 4}L${cx + cw - 4} ${cy + ch - 4}M${cx + cw - 4} ${cy + 4}L${cx + 4} ${cy + ch - 4}" stroke="#999" stroke-width="1.2"/>`;
      if (c.status === 'diverged') body += `<text x="${cx + cw / 2}" y="${cy + ch / 2 + 4}" text-anchor="middle" font-size="9" fill="#333" stroke="#ddd" stroke-width="3" paint-order="stroke">div@${c.divergedAt}${c.runs.length > 1 ? ` ${c.seedsDiverged}/${c.runs.length}` : ''}</text>`;
      else body += `<text x="${cx + cw / 2}" y="${cy + ch / 2 + 4}" text-anchor="middle" font-size="9" fill="#333">${c.status}</text>`;
    }
  }
  for (const c of h.cells) if (c.rowBest) body += `<rect x="${x0 + c.xi * cw + 1.5}" y="${y0 - (c.yi + 1) * ch + 1.5}" width="${cw - 3}" height="${ch - 3}" fill="none" stroke="#ff2d2d" stroke-width="3"/>`;
  body += `<rect x="${x0}" y="${y1}" width="${x1 - x0}" height="${y0 - y1}" fill="none" stroke="#333"/>`;
  h.x.values.forEach((v, i) => (body += `<text x="${x0 + (i + 0.5) * cw}" y="${y0 + 18}" text-anchor="middle" font-size="${nx > 7 ? 10 : 12}">${fmtTick(v)}</text>`));
  h.y.values.forEach((v, i) => (body += `<text x="${x0 - 8}" y="${y0 - (i + 0.5) * ch + 4}" text-anchor="end">${fmtTick(v)}</text>`));
  body += `<text x="${(x0 + x1) / 2}" y="${H - 16}" text-anchor="middle">${esc(h.x.label)} (log grid)</text>`;
  body += `<text transform="translate(18 ${(y0 + y1) / 2}) rotate(-90)" text-anchor="middle">${esc(h.y.label)}</text>`;
  // colour bar
  const bx = W - M.right + 20;
  const bh = y0 - y1 - 60;
  for (let i = 0; i < 40; i++) body += `<rect x="${bx}" y="${y1 + bh - ((i + 1) * bh) / 40}" width="16" height="${bh / 40 + 0.5}" fill="${viridis(i / 39)}"/>`;
  if (min !== null && max !== null) {
    body += `<text x="${bx + 22}" y="${y1 + bh + 4}">${fmtTick(Number(min.toPrecision(2)))}</text><text x="${bx + 22}" y="${y1 + 8}">${fmtTick(Number(max.toPrecision(2)))}</text>`;
  }
  body += `<text x="${bx}" y="${y1 + bh + 24}" font-size="11">${esc(h.value.label)} (log)</text>`;
  body += `<rect x="${bx}" y="${y1 + bh + 34}" width="16" height="12" fill="#ddd" stroke="#999"/><text x="${bx + 22}" y="${y1 + bh + 44}" font-size="11">diverged</text>`;
  body += `<rect x="${bx}" y="${y1 + bh + 52}" width="16" height="12" fill="none" stroke="#ff2d2d" stroke-width="2.5"/><text x="${bx + 22}" y="${y1 + bh + 62}" font-size="11">best per row</text>`;
  if (note) body += `<text x="${M.left}" y="${M.top - 8}" font-size="10" fill="#555">${esc(note)}</text>`;
  return frame(title, body);
}

/** A linear-x, log-y chart of curves over training steps. */
function curvesChart(o: { title: string; yLabel: string; curves: Array<{ label: string; color: string; steps: number[]; y: Array<number | null> }> }): string {
  const steps = o.curves.flatMap((c) => c.steps);
  const ys = o.curves.flatMap((c) => c.y).filter((v): v is number => v !== null && v > 0);
  if (!steps.length || !ys.length) return frame(o.title, `<text x="${W / 2}" y="${H / 2}" text-anchor="middle">no curves recorded</text>`);
  const smax = Math.max(...steps);
  const x: Scale = { lo: 0, hi: smax, px: (v) => M.left + (v / smax) * (W - M.left - M.right) };
  const y = logScale(ys, H - M.bottom, M.top, 0.08);
  const xt = Array.from({ length: 5 }, (_, i) => Math.round((smax * i) / 4));
  let body = axes(x, y, 'step', o.yLabel, xt, logTicks(y.lo, y.hi));
  const legend: string[] = [];
  for (const c of o.curves) {
    const pts = c.steps.map((s, i) => (c.y[i] !== null && (c.y[i] as number) > 0 ? `${x.px(s)},${y.px(c.y[i] as number)}` : '')).filter(Boolean);
    body += `<polyline points="${pts.join(' ')}" fill="none" stroke="${c.color}" stroke-width="1.6"/>`;
    legend.push(`<line x1="0" x2="22" y1="0" y2="0" stroke="${c.color}" stroke-width="2"/><text x="28" y="4">${esc(c.label)}</text>`);
  }
  return frame(o.title, body + legendBlock(legend));
}

/** The theory's slopes drawn through the matching init's points: n^1 through Init[B], n^0 through Init[A]. */
function oneStepRefs(views: Array<{ init: string; references: RefLine[] }>): RefLine[] {
  const pick = (init: string, slope: number) => views.find((v) => v.init === init)?.references.find((l) => l.slope === slope);
  const out = [pick('B', 1), pick('A', 0)].filter((l): l is RefLine => !!l);
  return out.length ? out : (views[0]?.references ?? []);
}

const widthColors = (k: number) => Array.from({ length: k }, (_, i) => viridis(k === 1 ? 0.5 : (i / (k - 1)) * 0.9));

const seedsText = (r: SweepResult) => (r.axes.seed.length > 1 ? `geometric mean of ${r.axes.seed.length} seeds (${r.axes.seed.join(', ')})` : `seed ${r.axes.seed[0]}`);
const seedFitNote = (f: SeedFits | null) => (f ? `per seed ${f3(f.mean)}${f.stderr !== null ? ` ± ${f3(f.stderr)}` : ''} (${f.count} seeds)` : '');

/** E6: the best loss over eta at each lambda as a ratio to lambda = 1, per width (seed range as bars). */
function e6RatioChart(rows: E6Row[], which: 'train' | 'test', steps: number | string | boolean, seeds: string): string {
  const widths = [...new Set(rows.map((x) => `${x.init}:${x.n}`))];
  const colors = widthColors(widths.length);
  const series: Series[] = widths.map((k, i) => {
    const rs = rows.filter((x) => `${x.init}:${x.n}` === k);
    const label = `${rs[0].init === 'A' ? '' : `Init[${rs[0].init}] `}n = ${rs[0].n}`;
    return {
      label,
      color: colors[i],
      connect: true,
      // Widths side by side around each lambda, so their bars do not overlap.
      points: rs.map((x) => ({ x: x.lambda * (1 + 0.035 * (i - (widths.length - 1) / 2)), y: which === 'train' ? x.trainRatio : x.testRatio, hollow: x.seeds.some((sd) => (which === 'train' ? sd.trainAtEdge : sd.testAtEdge)) })),
      bars: rs.map((x) => (which === 'train' ? x.trainRatioRange : x.testRatioRange)),
    };
  });
  const title = `E6: best ${which === 'train' ? 'training' : 'test'} loss over η, ratio to λ = 1`;
  return logLogChart({
    title,
    xLabel: 'LoRA+ ratio λ (lr_B = λ·η)',
    yLabel: `best final ${which} loss / same at λ = 1`,
    series,
    refs: [{ label: 'λ = 1', slope: 0, intercept: 0 }],
    xTicks: [...new Set(rows.map((x) => x.lambda))],
    note: `${steps} full-batch steps, η tuned per λ and seed; ${seeds}; bars: smallest to largest seed; hollow: some seed's best η at the edge of the grid`,
  });
}

/** Every figure of a result: names are stable file stems ("lr-width-heatmap-A", ...). */
export function sweepFigures(r: SweepResult): Figure[] {
  const out: Figure[] = [];
  const steps = r.base.steps;
  if (r.kind === 'lr-width') {
    for (const v of r.lrWidth) {
      const title = `Init[${v.init}]: ${v.heatmap.value.label} after ${steps} steps`;
      out.push({ name: `lr-width-heatmap-${v.init}`, title, svg: heatmapSvg(v.heatmap, title, `λ = ${r.base.lambda}, rank ${r.base.rank}, ${r.base.nTrain} examples, ${seedsText(r)}`) });
    }
    // Per init: the grid optimum (squares) and the refined one (circles) with its fit. Both inits often
    // share a grid optimum: Init[A]'s larger square stays visible around Init[B]'s. With several seeds,
    // each seed's refined optimum is a small dot.
    const series: Series[] = r.lrWidth.flatMap((v): Series[] => [
      { label: `Init[${v.init}]: best η on the grid`, color: COLORS[v.init], marker: 'square', size: v.init === 'A' ? 6.5 : 4, points: v.optimum.map((o) => ({ x: o.x, y: o.eta, hollow: true })) },
      { label: `Init[${v.init}]: refined η*`, color: COLORS[v.init], points: v.optimum.map((o) => ({ x: o.x, y: o.etaRefined ?? o.eta, hollow: o.atEdge })), fit: v.fitRefined },
      ...(v.seedFits
        ? [{ label: `Init[${v.init}]: each seed, ${seedFitNote(v.seedFits)}`, color: COLORS[v.init], size: 2.2, points: v.optimum.flatMap((o) => (o.perSeed ?? []).map((ps) => ({ x: o.x * (1 + 0.04 * (r.axes.seed.indexOf(ps.seed) - (r.axes.seed.length - 1) / 2)), y: ps.etaRefined ?? ps.eta, hollow: true }))) }]
        : []),
    ]);
    const refs = r.lrWidth[0]?.references ?? [];
    out.push({
      name: 'lr-width-optimal-eta',
      title: 'Optimal learning rate against width',
      svg: logLogChart({ title: 'Optimal learning rate against width', xLabel: 'width n', yLabel: `η with the lowest ${r.lrWidth[0]?.heatmap.value.label ?? 'loss'}`, series, refs, xTicks: r.axes.n, note: `${seedsText(r)}${r.lrWidth.some((v) => v.fitJackknife) ? ` (fit ± jackknife over seeds: ${r.lrWidth.map((v) => (v.fitJackknife ? `Init[${v.init}] ${f3(v.fitJackknife.slope)} ± ${f3(v.fitJackknife.stderr)}` : '')).filter(Boolean).join(', ')})` : ''}. Refined η*: a parabola in log η through the best grid η and its neighbours; hollow circle: optimum at the edge of the grid` }),
    });
  } else if (r.kind === 'lambda-eta') {
    const oneWidth = r.axes.n.length === 1;
    for (const v of r.lambdaEta) {
      const title = `Init[${v.init}], n = ${v.n}: ${v.heatmap.value.label} over λ × η`;
      out.push({ name: `lambda-eta-heatmap-${v.init}${oneWidth ? '' : `-n${v.n}`}`, title, svg: heatmapSvg(v.heatmap, title, `lr_B = λ·η, ${steps} steps, rank ${r.base.rank}, ${seedsText(r)}`) });
    }
    const colors = widthColors(r.lambdaEta.length);
    const label = r.lambdaEta[0]?.heatmap.value.label ?? 'loss';
    const series: Series[] = r.lambdaEta.map((v, i) => ({ label: `Init[${v.init}], n = ${v.n}`, color: r.lambdaEta.length === 1 ? COLORS[v.init] : colors[i], connect: true, points: v.bestPerLambda.map((o) => ({ x: o.x, y: o.loss, hollow: o.atEdge })) }));
    const bestTitle = `Best ${label} over η against λ`;
    out.push({
      name: 'lambda-eta-best',
      title: bestTitle,
      svg: logLogChart({ title: bestTitle, xLabel: 'LoRA+ ratio λ', yLabel: `best ${label} over η`, series, xTicks: r.axes.lambda, note: `${seedsText(r)}; hollow: best η at the edge of the grid` }),
    });
    if (r.e6.some((x) => x.trainRatio !== null)) {
      out.push({ name: 'e6-ratio-train', title: 'E6: training loss, ratio to λ = 1', svg: e6RatioChart(r.e6, 'train', steps, seedsText(r)) });
      out.push({ name: 'e6-ratio-test', title: 'E6: test loss, ratio to λ = 1', svg: e6RatioChart(r.e6, 'test', steps, seedsText(r)) });
    }
  } else {
    const eta = r.widthScaling[0]?.eta;
    const one: Series[] = r.widthScaling.map((v) => ({ label: `Init[${v.init}]`, color: COLORS[v.init], points: v.points.map((p) => ({ x: p.n, y: p.oneStepDeltaZB })), fit: v.oneStepFit }));
    out.push({
      name: 'width-one-step',
      title: `Change of ||Z_B|| from one update (η = ${eta})`,
      svg: logLogChart({ title: `Change of ||Z_B|| from one update (η = ${eta})`, xLabel: 'width n', yLabel: '||Z_B|| at step 2 − step 1 (coordinate RMS)', series: one, refs: oneStepRefs(r.widthScaling), xTicks: r.axes.n }),
    });
    const norms: Series[] = r.widthScaling.flatMap((v) => [
      { label: `Init[${v.init}] max ||Z_A||`, color: COLORS[v.init], points: v.points.map((p) => ({ x: p.n, y: p.maxZA, hollow: p.status !== 'done' })), fit: v.maxZAFit },
      { label: `Init[${v.init}] max ||Z_B||`, color: COLORS[v.init], dashed: true, marker: 'square', points: v.points.map((p) => ({ x: p.n, y: p.maxZB, hollow: p.status !== 'done' })), fit: v.maxZBFit },
    ]);
    out.push({
      name: 'width-norms',
      title: `Largest ||Z_A||, ||Z_B|| over ${steps} steps (η = ${eta})`,
      svg: logLogChart({ title: `Largest ||Z_A||, ||Z_B|| over ${steps} steps (η = ${eta})`, xLabel: 'width n', yLabel: 'max over steps (coordinate RMS)', series: norms, xTicks: r.axes.n, note: 'hollow: the run diverged (max up to its divergence step)' }),
    });
    for (const v of r.widthScaling) {
      const runs = v.points.map((p) => r.runs[p.run]).filter((x) => x.curve);
      if (!runs.length) continue;
      const colors = widthColors(runs.length);
      for (const field of ['zA', 'zB'] as const) {
        out.push({
          name: `width-curves-${field}-${v.init}`,
          title: `Init[${v.init}]: ||${field === 'zA' ? 'Z_A' : 'Z_B'}|| during training (η = ${eta})`,
          svg: curvesChart({
            title: `Init[${v.init}]: ||${field === 'zA' ? 'Z_A' : 'Z_B'}|| during training (η = ${eta})`,
            yLabel: `||${field === 'zA' ? 'Z_A' : 'Z_B'}|| (coordinate RMS)`,
            curves: runs.map((run, i) => ({ label: `n = ${run.point.n}${run.status === 'diverged' ? ` (div@${run.divergedAt})` : ''}`, color: colors[i], steps: run.curve!.step, y: run.curve![field] })),
          }),
        });
      }
    }
  }
  return out;
}
