/** Minimal, dependency-free SVG charts for the evaluation report. */

const COLOURS = ['#1b6ca8', '#d1495b', '#66a182', '#edae49', '#6c4f8a'];
const W = 640, H = 320, LEFT = 56, RIGHT = 16, TOP = 36, BOTTOM = 48;
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

function frame(title: string, body: string, xLabel: string, yLabel: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" font-family="sans-serif" font-size="12">
<rect width="${W}" height="${H}" fill="white"/>
<text x="${W / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">${esc(title)}</text>
<line x1="${LEFT}" y1="${H - BOTTOM}" x2="${W - RIGHT}" y2="${H - BOTTOM}" stroke="#333"/>
<line x1="${LEFT}" y1="${TOP}" x2="${LEFT}" y2="${H - BOTTOM}" stroke="#333"/>
<text x="${(LEFT + W - RIGHT) / 2}" y="${H - 10}" text-anchor="middle">${esc(xLabel)}</text>
<text transform="translate(14 ${(TOP + H - BOTTOM) / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>
${body}
</svg>
`;
}

export interface Series {
  readonly label: string;
  readonly values: readonly number[];
}

/** Overlaid histograms (share of values per bin) with optional labelled vertical markers. */
export function histogram(
  title: string, series: readonly Series[], xLabel: string,
  markers: readonly { x: number; label: string }[] = [], bins = 30,
): string {
  const all = series.flatMap((s) => s.values.filter(Number.isFinite));
  const lo = 0;
  const hi = Math.max(1e-9, ...all, ...markers.map((m) => m.x)) * 1.05;
  const width = (hi - lo) / bins;
  const counts = series.map((s) => {
    const c = new Array(bins).fill(0);
    for (const v of s.values) if (Number.isFinite(v)) c[Math.min(bins - 1, Math.floor((v - lo) / width))] += 1 / s.values.length;
    return c;
  });
  const top = Math.max(1e-9, ...counts.flat());
  const px = (x: number) => LEFT + ((x - lo) / (hi - lo)) * (W - LEFT - RIGHT);
  const py = (y: number) => H - BOTTOM - (y / top) * (H - TOP - BOTTOM);
  let body = '';
  counts.forEach((c, s) => {
    c.forEach((v, b) => {
      if (v > 0) {
        body += `<rect x="${px(lo + b * width).toFixed(1)}" y="${py(v).toFixed(1)}" width="${(px(width) - px(0)).toFixed(1)}" height="${(H - BOTTOM - py(v)).toFixed(1)}" fill="${COLOURS[s % COLOURS.length]}" fill-opacity="0.55"/>`;
      }
    });
    body += `<rect x="${W - RIGHT - 150}" y="${TOP + 4 + s * 16}" width="10" height="10" fill="${COLOURS[s % COLOURS.length]}"/><text x="${W - RIGHT - 136}" y="${TOP + 13 + s * 16}">${esc(series[s].label)}</text>`;
  });
  for (const m of markers) {
    // Labels right of the line, or left of it in the right half so that they stay inside the chart.
    const right = px(m.x) > W / 2;
    body += `<line x1="${px(m.x)}" y1="${TOP}" x2="${px(m.x)}" y2="${H - BOTTOM}" stroke="black" stroke-dasharray="4 3"/><text x="${px(m.x) + (right ? -4 : 4)}" y="${H - BOTTOM - 8}" text-anchor="${right ? 'end' : 'start'}">${esc(m.label)}</text>`;
  }
  for (let t = 0; t <= 4; t++) {
    const x = lo + ((hi - lo) * t) / 4;
    body += `<text x="${px(x)}" y="${H - BOTTOM + 16}" text-anchor="middle">${x.toPrecision(2)}</text>`;
  }
  body += `<text x="${LEFT - 6}" y="${py(top) + 4}" text-anchor="end">${(top * 100).toFixed(0)}%</text>`;
  return frame(title, body, xLabel, 'share of queries');
}

/** Grouped bars: one group per category, one bar per series, values in [0, 1]. */
export function groupedBars(title: string, categories: readonly string[], series: readonly Series[], yLabel: string): string {
  const groupWidth = (W - LEFT - RIGHT) / categories.length;
  const barWidth = (groupWidth * 0.8) / series.length;
  const py = (y: number) => H - BOTTOM - y * (H - TOP - BOTTOM);
  let body = '';
  categories.forEach((c, g) => {
    series.forEach((s, i) => {
      const v = s.values[g];
      const x = LEFT + g * groupWidth + groupWidth * 0.1 + i * barWidth;
      body += `<rect x="${x.toFixed(1)}" y="${py(v).toFixed(1)}" width="${barWidth.toFixed(1)}" height="${(H - BOTTOM - py(v)).toFixed(1)}" fill="${COLOURS[i % COLOURS.length]}"><title>${esc(s.label)} ${esc(c)}: ${v.toFixed(3)}</title></rect>`;
    });
    body += `<text x="${LEFT + (g + 0.5) * groupWidth}" y="${H - BOTTOM + 16}" text-anchor="middle">${esc(c)}</text>`;
  });
  // Legend in rows of three, so that five series still fit the width.
  series.forEach((s, i) => {
    const x = 8 + (i % 3) * 212, y = H - 28 + Math.floor(i / 3) * 14;
    body += `<rect x="${x}" y="${y}" width="10" height="10" fill="${COLOURS[i % COLOURS.length]}"/><text x="${x + 14}" y="${y + 9}" font-size="11">${esc(s.label)}</text>`;
  });
  for (const t of [0, 0.5, 1]) body += `<text x="${LEFT - 6}" y="${py(t) + 4}" text-anchor="end">${t}</text>`;
  return frame(title, body, '', yLabel);
}
