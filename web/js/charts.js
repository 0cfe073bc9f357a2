// SVG charts, each with a text summary for screen readers and its numbers
// as a table.
import {h, svg, table} from './dom.js';
import {dateTime, duration, gpuHours} from './format.js';

// A path along the upper half circle from angle from to angle to, in [0, 1] left to right.
function arc(cx, cy, r, from, to) {
  const at = (t) => (cx + r * Math.cos(Math.PI * (1 - t))).toFixed(2) + ' ' + (cy - r * Math.sin(Math.PI * (1 - t))).toFixed(2);
  return 'M' + at(from) + ' A' + r + ' ' + r + ' 0 0 1 ' + at(to);
}

/* Remaining quota as a half circle: reserved, then available. */
export function gauge({remaining, reserved, available}, label) {
  const total = Math.max(remaining, reserved + available, 1);
  const r = Math.min(reserved / total, 1);
  const a = Math.min(available / total, 1 - r);
  const parts = [svg('path', {d: arc(100, 100, 80, 0, 1), class: 'g-track'})];
  if (r > 0.001) parts.push(svg('path', {d: arc(100, 100, 80, 0, r), class: 'g-reserved'}));
  if (a > 0.001) parts.push(svg('path', {d: arc(100, 100, 80, r, Math.min(r + a, 0.9999)), class: 'g-available'}));
  const pct = remaining > 0 ? Math.round((available / remaining) * 100) : 0;
  return svg('svg', {viewBox: '0 0 200 118', class: 'gauge', role: 'img', 'aria-label': label},
    ...parts,
    svg('text', {x: 100, y: 88, 'text-anchor': 'middle', class: 'g-value'}, pct + '%'),
    svg('text', {x: 100, y: 108, 'text-anchor': 'middle', class: 'g-label'}, 'available'));
}

/* The chart, its caption, and its numbers as a table folded away. */
function figure(W, H, label, caption, kids, head, rows) {
  return h('figure', {class: 'chart'},
    svg('svg', {viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'aria-label': label}, ...kids),
    h('figcaption', null, caption),
    h('details', {class: 'chart-data'}, h('summary', null, 'Show the numbers'),
      table(label, head, rows.map((r) => h('tr', null, r.map((c) => h('td', null, c)))))));
}

function niceMax(v) {
  if (v <= 0) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 4, 8, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

/* Vertical bars: points [{label, short, value}] with values in GPU-seconds. */
export function dayBars(caption, points) {
  const W = 600, H = 200, L = 40, B = 24;
  const hours = points.map((p) => p.value / 3600);
  const max = niceMax(Math.max(...hours, 0));
  const bw = (W - L - 24) / points.length;
  const kids = [];
  for (let i = 0; i <= 4; i++) {
    const y = H - B - ((H - B - 8) * i) / 4;
    kids.push(svg('line', {x1: L, x2: W - 20, y1: y, y2: y, class: 'grid'}),
      svg('text', {x: L - 6, y: y + 4, 'text-anchor': 'end', class: 'axis'}, String(Number((max * i / 4).toPrecision(2)))));
  }
  points.forEach((p, i) => {
    const hgt = ((H - B - 8) * hours[i]) / max;
    const x = L + 2 + i * bw;
    if (hgt > 0) {
      kids.push(svg('rect', {x: x + 1, y: H - B - hgt, width: Math.max(bw - 2, 1), height: hgt, class: 'bar'},
        svg('title', null, p.label + ': ' + gpuHours(p.value) + ' GPU-h')));
    }
    if (p.short) kids.push(svg('text', {x: x + bw / 2, y: H - 6, 'text-anchor': 'middle', class: 'axis'}, p.short));
  });
  const total = gpuHours(points.reduce((s, p) => s + p.value, 0));
  return figure(W, H, caption + ': ' + total + ' GPU-hours in all', caption + ' — ' + total + ' GPU-h in all', kids,
    ['Day', 'GPU-hours'], points.map((p) => [p.label, gpuHours(p.value)]));
}

/* Horizontal bars: items [{label, value}] in GPU-seconds, largest first. */
export function nameBars(caption, items, head) {
  const sorted = [...items].sort((a, b) => b.value - a.value);
  const W = 600, row = 26, L = 140, H = Math.max(sorted.length, 1) * row + 6;
  const max = Math.max(...sorted.map((i) => i.value), 1);
  const kids = sorted.map((it, i) => {
    const w = ((W - L - 80) * it.value) / max;
    const y = 4 + i * row;
    return svg('g', null,
      svg('text', {x: L - 8, y: y + 15, 'text-anchor': 'end', class: 'axis'}, it.label.length > 18 ? it.label.slice(0, 17) + '…' : it.label),
      svg('rect', {x: L, y: y + 3, width: Math.max(w, it.value > 0 ? 2 : 0), height: row - 8, class: 'bar'}),
      svg('text', {x: L + w + 6, y: y + 15, class: 'axis'}, gpuHours(it.value) + ' GPU-h' +
        (it.value < 360 ? ' (' + duration(it.value) + ')' : '')));
  });
  return figure(W, H, caption, caption, kids, [head, 'GPU-hours'], sorted.map((i) => [i.label, gpuHours(i.value)]));
}

/* The last n days, oldest first (local time). */
export function lastDays(n) {
  const out = [];
  const base = new Date();
  for (let i = n - 1; i >= 0; i--) {
    const d = new Date(base.getFullYear(), base.getMonth(), base.getDate() - i);
    const key = dayKey(d);
    out.push({key, label: key, short: i % 5 === 0 ? key.slice(5) : ''});
  }
  return out;
}

export const dayKey = (iso) => dateTime(iso).slice(0, 10);

/* A link that downloads rows as CSV. */
export function csvLink(filename, rows) {
  const csv = rows.map((r) => r.map((c) => {
    const s = String(c);
    return /[",\n\r]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
  }).join(',')).join('\r\n') + '\r\n';
  const a = h('a', {class: 'button', download: filename, href: '#'}, 'Download CSV');
  a.href = URL.createObjectURL(new Blob([csv], {type: 'text/csv'}));
  a.dataset.csv = csv;
  return a;
}
