// A small SVG chart of our own (no third-party code): vertical bars for a series of
// {label, value} points, with a few y gridlines, thinned x labels and a <title> per bar for
// hover. Built with createElementNS and textContent only.
const NS = 'http://www.w3.org/2000/svg';

function el(tag, attrs = {}, text) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = String(text);
  return node;
}

/** A "nice" axis maximum and step for `max`: 1, 2 or 5 times a power of ten. */
export function niceScale(max, ticks = 4) {
  if (!(max > 0)) return { top: ticks, step: 1 };
  const raw = max / ticks;
  const pow = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * pow).find((s) => s >= raw);
  const whole = Math.max(1, Math.round(step));
  return { top: whole * Math.ceil(max / whole), step: whole };
}

/**
 * barChart({points: [{label, value, title}], height, ariaLabel}) -> <svg>
 * The SVG scales to its container's width (viewBox), so it fits phones and wide screens.
 */
export function barChart({ points, height = 240, ariaLabel = 'Chart', maxLabels = 12 }) {
  const width = 720;
  const pad = { top: 12, right: 8, bottom: 28, left: 40 };
  const innerW = width - pad.left - pad.right;
  const innerH = height - pad.top - pad.bottom;
  const max = Math.max(0, ...points.map((p) => p.value));
  const { top, step } = niceScale(max);
  const svg = el('svg', { viewBox: `0 0 ${width} ${height}`, class: 'chart', role: 'img', 'aria-label': ariaLabel, preserveAspectRatio: 'none' });
  const grid = el('g', { class: 'chart-grid' });
  for (let v = 0; v <= top; v += step) {
    const y = pad.top + innerH - (v / top) * innerH;
    grid.append(el('line', { x1: pad.left, x2: width - pad.right, y1: y, y2: y }));
    grid.append(el('text', { x: pad.left - 6, y: y + 4, 'text-anchor': 'end', class: 'chart-axis' }, v.toLocaleString()));
  }
  svg.append(grid);
  const n = Math.max(points.length, 1);
  const slot = innerW / n;
  const barW = Math.max(2, Math.min(36, slot * 0.7));
  const every = Math.ceil(n / maxLabels);
  const bars = el('g', { class: 'chart-bars' });
  points.forEach((p, i) => {
    const h = top ? (p.value / top) * innerH : 0;
    const x = pad.left + i * slot + (slot - barW) / 2;
    const bar = el('rect', { x, y: pad.top + innerH - h, width: barW, height: Math.max(h, p.value ? 1 : 0), rx: 2, class: 'chart-bar' });
    bar.append(el('title', {}, p.title || `${p.label}: ${p.value}`));
    bars.append(bar);
    if (i % every === 0) {
      bars.append(el('text', { x: x + barW / 2, y: height - 8, 'text-anchor': 'middle', class: 'chart-axis' }, p.label));
    }
  });
  svg.append(bars);
  return svg;
}

/**
 * lineChart({points: [{x, y}], height, ariaLabel, area, yLabel, xLabel}) -> <svg>
 * One series over a numeric x (e.g. unix seconds), drawn as a polyline; `area: true` fills it
 * down to the zero line (the drawdown). The y range always includes 0, whose gridline is drawn
 * stronger. `xLabel(x)` formats the first, middle and last x under the chart.
 */
export function lineChart({ points, height = 220, ariaLabel = 'Chart', area = false, yLabel = (v) => v.toLocaleString(), xLabel = String, tone = 'primary' }) {
  const width = 720;
  const pad = { top: 12, right: 12, bottom: 26, left: 56 };
  const innerW = width - pad.left - pad.right;
  const innerH = height - pad.top - pad.bottom;
  const svg = el('svg', { viewBox: `0 0 ${width} ${height}`, class: 'chart chart-line', role: 'img', 'aria-label': ariaLabel, preserveAspectRatio: 'none' });
  svg.style.height = height + 'px';
  if (!points.length) return svg;
  const xs = points.map((p) => p.x);
  const ys = points.map((p) => p.y);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  const hi = Math.max(0, ...ys);
  const lo = Math.min(0, ...ys);
  const span = niceScale(Math.max(hi - lo, 1e-9));
  const step = span.step;
  const top = Math.ceil(hi / step) * step;
  const bottom = Math.floor(lo / step) * step;
  const range = top - bottom || 1;
  const sx = (x) => pad.left + (x1 === x0 ? innerW / 2 : ((x - x0) / (x1 - x0)) * innerW);
  const sy = (y) => pad.top + ((top - y) / range) * innerH;
  const grid = el('g', { class: 'chart-grid' });
  for (let v = bottom; v <= top + step / 2; v += step) {
    const y = sy(v);
    grid.append(el('line', { x1: pad.left, x2: width - pad.right, y1: y, y2: y, class: Math.abs(v) < step / 2 ? 'chart-zero' : '' }));
    grid.append(el('text', { x: pad.left - 6, y: y + 4, 'text-anchor': 'end', class: 'chart-axis' }, yLabel(Math.abs(v) < step / 2 ? 0 : v)));
  }
  svg.append(grid);
  const coords = points.map((p) => `${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`);
  if (area) {
    const base = sy(0).toFixed(1);
    svg.append(el('polygon', { points: `${sx(xs[0]).toFixed(1)},${base} ${coords.join(' ')} ${sx(xs[xs.length - 1]).toFixed(1)},${base}`, class: `chart-area chart-${tone}` }));
  }
  svg.append(el('polyline', { points: coords.join(' '), class: `chart-path chart-${tone}`, 'vector-effect': 'non-scaling-stroke' }));
  const labels = el('g', {});
  const mid = points[Math.floor(points.length / 2)].x;
  [[x0, 'start'], [mid, 'middle'], [x1, 'end']].forEach(([x, anchor]) => {
    labels.append(el('text', { x: sx(x), y: height - 8, 'text-anchor': anchor, class: 'chart-axis' }, xLabel(x)));
  });
  svg.append(labels);
  return svg;
}

/**
 * signedBarChart({points: [{label, value, title}], height, ariaLabel}) -> <svg>
 * Bars up from zero for positive values and down for negative ones (pips per day), on one
 * symmetric-enough scale that always includes 0.
 */
export function signedBarChart({ points, height = 200, ariaLabel = 'Chart', maxLabels = 10, format = (v) => v.toLocaleString() }) {
  const width = 720;
  const pad = { top: 12, right: 8, bottom: 28, left: 48 };
  const innerW = width - pad.left - pad.right;
  const innerH = height - pad.top - pad.bottom;
  const hi = Math.max(0, ...points.map((p) => p.value));
  const lo = Math.min(0, ...points.map((p) => p.value));
  const { step } = niceScale(Math.max(hi - lo, 1e-9));
  const top = Math.max(step, Math.ceil(hi / step) * step);
  const bottom = Math.min(0, Math.floor(lo / step) * step);
  const range = top - bottom || 1;
  const sy = (v) => pad.top + ((top - v) / range) * innerH;
  const svg = el('svg', { viewBox: `0 0 ${width} ${height}`, class: 'chart', role: 'img', 'aria-label': ariaLabel, preserveAspectRatio: 'none' });
  const grid = el('g', { class: 'chart-grid' });
  for (let v = bottom; v <= top + step / 2; v += step) {
    const y = sy(v);
    grid.append(el('line', { x1: pad.left, x2: width - pad.right, y1: y, y2: y, class: Math.abs(v) < step / 2 ? 'chart-zero' : '' }));
    grid.append(el('text', { x: pad.left - 6, y: y + 4, 'text-anchor': 'end', class: 'chart-axis' }, format(Math.abs(v) < step / 2 ? 0 : v)));
  }
  svg.append(grid);
  const n = Math.max(points.length, 1);
  const slot = innerW / n;
  const barW = Math.max(2, Math.min(36, slot * 0.7));
  const every = Math.ceil(n / maxLabels);
  const bars = el('g', { class: 'chart-bars' });
  points.forEach((p, i) => {
    const x = pad.left + i * slot + (slot - barW) / 2;
    const y0 = sy(0);
    const y1 = sy(p.value);
    const bar = el('rect', { x, y: Math.min(y0, y1), width: barW, height: Math.max(Math.abs(y1 - y0), p.value ? 1 : 0), rx: 2, class: p.value < 0 ? 'chart-bar chart-bar-neg' : 'chart-bar chart-bar-pos' });
    bar.append(el('title', {}, p.title || `${p.label}: ${p.value}`));
    bars.append(bar);
    if (i % every === 0) {
      bars.append(el('text', { x: x + barW / 2, y: height - 8, 'text-anchor': 'middle', class: 'chart-axis' }, p.label));
    }
  });
  svg.append(bars);
  return svg;
}
