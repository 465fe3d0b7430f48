/**
 * A bar chart as inline SVG drawn on the server: no script, no external image, nothing the
 * Content-Security-Policy has to allow. Every value reaches the markup as a number through `html`, and the
 * chart carries a text description and its values as a table for people who cannot see it.
 */
import { html, type SafeHtml } from '../html.js';

/** One bar. */
export interface Bar {
  readonly label: string;
  readonly value: number;
}

const width = 720;
const height = 200;
const left = 36;
const bottom = 24;
const top = 12;

/** A bar chart of `bars` with an accessible name `title`. */
export function barChart(id: string, title: string, bars: readonly Bar[]): SafeHtml {
  const maximum = Math.max(1, ...bars.map((bar) => bar.value));
  const slot = (width - left) / Math.max(1, bars.length);
  const plotHeight = height - bottom - top;
  const rects = bars.map((bar, index) => {
    const barHeight = Math.round((bar.value / maximum) * plotHeight);
    const x = Math.round(left + index * slot + slot * 0.15);
    const y = top + plotHeight - barHeight;
    return html`<rect class="bar" x="${x}" y="${y}" width="${Math.max(1, Math.round(slot * 0.7))}" height="${barHeight}"><title>${bar.label}: ${bar.value}</title></rect>`;
  });
  const labelEvery = Math.max(1, Math.ceil(bars.length / 6));
  const labels = bars.map((bar, index) =>
    index % labelEvery === 0
      ? html`<text x="${Math.round(left + index * slot)}" y="${height - 6}">${bar.label}</text>`
      : '',
  );
  const total = bars.reduce((sum, bar) => sum + bar.value, 0);
  return html`<figure>
<svg class="chart" id="${id}" viewBox="0 0 ${width} ${height}" role="img" aria-labelledby="${id}-title ${id}-desc" xmlns="http://www.w3.org/2000/svg">
<title id="${id}-title">${title}</title>
<desc id="${id}-desc">${bars.length} bars, ${total} in all, highest ${maximum}.</desc>
<line class="axis" x1="${left}" y1="${top + plotHeight}" x2="${width}" y2="${top + plotHeight}"/>
<line class="axis" x1="${left}" y1="${top}" x2="${left}" y2="${top + plotHeight}"/>
<text x="0" y="${top + 10}">${maximum}</text><text x="0" y="${top + plotHeight}">0</text>
${rects}
${labels}
</svg>
<figcaption>${title}</figcaption>
</figure>
<details><summary>Values of the chart</summary>
<table><thead><tr><th scope="col">Minute</th><th scope="col" class="amount">Count</th></tr></thead>
<tbody>${bars.map((bar) => html`<tr><td>${bar.label}</td><td class="amount">${bar.value}</td></tr>`)}</tbody></table>
</details>`;
}
