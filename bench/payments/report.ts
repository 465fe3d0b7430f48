/**
 * The bench's reports: a markdown table of runs, the baseline comparison, and an SVG chart of payments/s
 * and p99 latency against client count.
 */
import type { RunResult } from './measure.js';
import type { PgbenchResult } from './pgbench.js';

/** A run, with the pgbench baseline measured at the same client count on the same server, if any. */
export interface ComparedRun {
  readonly run: RunResult;
  readonly pgbench?: PgbenchResult;
}

function ratio(run: RunResult, pgbench: PgbenchResult | undefined): string {
  if (pgbench === undefined || pgbench.tps === 0) return '–';
  return (run.paymentsPerSecond / pgbench.tps).toFixed(2);
}

/**
 * The markdown table of runs. CPU is in percent of one core over the measured window: the server, the
 * bench database's backends, PostgreSQL's shared background processes, the load generator, and the rest
 * of the machine; then CPU milliseconds per payment of the server and of the database backends, beside
 * pgbench's database milliseconds per transaction.
 */
export function markdownTable(rows: readonly ComparedRun[]): string {
  const lines = [
    '| engine | run | clients | payers | payments/s | create p50 / p99 ms | approve p50 / p99 ms | pgbench TPS | payments/s ÷ TPS | CPU % server / db / db shared / load / other | CPU ms per payment: server / db | pgbench: db CPU ms per txn / other % | errors |',
    '|---|---|---:|---:|---:|---|---|---:|---:|---|---|---|---:|',
  ];
  for (const { run, pgbench } of rows) {
    const errors = Object.values(run.errors).reduce((sum, n) => sum + n, 0);
    const rate = run.targetRatePerSecond > 0 ? ` (paced at ${run.targetRatePerSecond}/s)` : '';
    const cpu = run.cpu;
    const baselineCpu =
      pgbench === undefined
        ? '–'
        : `${pgbench.cpu.databaseMsPerTransaction ?? '–'} / ${pgbench.cpu.otherPercent}`;
    lines.push(
      `| ${run.engine}${run.servers > 1 ? ` × ${run.servers} servers` : ''} | ${run.label}${rate} | ${run.clients} | ${run.payers} | ${run.paymentsPerSecond} | ` +
        `${run.createMs.p50} / ${run.createMs.p99} | ${run.approveMs.p50} / ${run.approveMs.p99} | ` +
        `${pgbench?.tps ?? '–'} | ${ratio(run, pgbench)} | ` +
        `${cpu.serverPercent} / ${cpu.databasePercent} / ${cpu.databaseSharedPercent} / ${cpu.loadGeneratorPercent} / ${cpu.otherPercent} | ` +
        `${cpu.serverMsPerPayment ?? '–'} / ${cpu.databaseMsPerPayment ?? '–'} | ${baselineCpu} | ${errors} |`,
    );
  }
  return lines.join('\n');
}

const width = 720;
const height = 400;
const margin = { left: 70, right: 70, top: 40, bottom: 50 };

function escapeXml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

function niceMax(value: number): number {
  if (!(value > 0)) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * magnitude >= value) return step * magnitude;
  return 10 * magnitude;
}

interface Series {
  readonly name: string;
  readonly color: string;
  readonly axis: 'left' | 'right';
  readonly dashed: boolean;
  readonly values: readonly number[];
}

/**
 * An SVG line chart: payments/s and pgbench TPS on the left axis, p99 of create and approve on the right
 * axis, client counts along the bottom (evenly spaced, as a sweep doubles or quadruples them).
 */
export function sweepChart(rows: readonly ComparedRun[], title: string): string {
  const clients = rows.map((row) => row.run.clients);
  const series: Series[] = [
    {
      name: 'payments/s',
      color: '#1f77b4',
      axis: 'left',
      dashed: false,
      values: rows.map((r) => r.run.paymentsPerSecond),
    },
    {
      name: 'pgbench tpcb-like TPS',
      color: '#7f7f7f',
      axis: 'left',
      dashed: false,
      values: rows.map((r) => r.pgbench?.tps ?? Number.NaN),
    },
    {
      name: 'create p99 ms',
      color: '#ff7f0e',
      axis: 'right',
      dashed: true,
      values: rows.map((r) => r.run.createMs.p99),
    },
    {
      name: 'approve p99 ms',
      color: '#d62728',
      axis: 'right',
      dashed: true,
      values: rows.map((r) => r.run.approveMs.p99),
    },
  ];
  const finite = (axis: 'left' | 'right') =>
    series.filter((s) => s.axis === axis).flatMap((s) => s.values.filter(Number.isFinite));
  const leftMax = niceMax(Math.max(...finite('left')));
  const rightMax = niceMax(Math.max(...finite('right')));
  const plotWidth = width - margin.left - margin.right;
  const plotHeight = height - margin.top - margin.bottom;
  const x = (index: number) =>
    margin.left + (clients.length === 1 ? plotWidth / 2 : (index / (clients.length - 1)) * plotWidth);
  const y = (value: number, max: number) => margin.top + plotHeight - (value / max) * plotHeight;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="14">${escapeXml(title)}</text>`,
  ];
  for (let tick = 0; tick <= 5; tick++) {
    const ty = margin.top + plotHeight - (tick / 5) * plotHeight;
    parts.push(
      `<line x1="${margin.left}" x2="${width - margin.right}" y1="${ty}" y2="${ty}" stroke="#eee"/>`,
    );
    parts.push(
      `<text x="${margin.left - 6}" y="${ty + 4}" text-anchor="end">${round1((leftMax * tick) / 5)}</text>`,
    );
    parts.push(`<text x="${width - margin.right + 6}" y="${ty + 4}">${round1((rightMax * tick) / 5)}</text>`);
  }
  clients.forEach((count, index) => {
    parts.push(
      `<text x="${x(index)}" y="${height - margin.bottom + 18}" text-anchor="middle">${count}</text>`,
    );
  });
  parts.push(`<text x="${width / 2}" y="${height - 12}" text-anchor="middle">concurrent clients</text>`);
  parts.push(
    `<text x="16" y="${margin.top + plotHeight / 2}" text-anchor="middle" transform="rotate(-90 16 ${margin.top + plotHeight / 2})">per second</text>`,
  );
  parts.push(
    `<text x="${width - 14}" y="${margin.top + plotHeight / 2}" text-anchor="middle" transform="rotate(90 ${width - 14} ${margin.top + plotHeight / 2})">p99 latency, ms</text>`,
  );
  series.forEach((s, seriesIndex) => {
    const max = s.axis === 'left' ? leftMax : rightMax;
    const points = s.values
      .map((value, index) =>
        Number.isFinite(value) ? `${x(index).toFixed(1)},${y(value, max).toFixed(1)}` : undefined,
      )
      .filter((point) => point !== undefined);
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
    parts.push(
      `<polyline fill="none" stroke="${s.color}" stroke-width="2"${dash} points="${points.join(' ')}"/>`,
    );
    for (const point of points) {
      const [px, py] = point.split(',');
      parts.push(`<circle cx="${px}" cy="${py}" r="3" fill="${s.color}"/>`);
    }
    const ly = margin.top + 4 + seriesIndex * 16;
    parts.push(
      `<line x1="${margin.left + 10}" x2="${margin.left + 34}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2"${dash}/>`,
    );
    parts.push(`<text x="${margin.left + 40}" y="${ly + 4}">${escapeXml(s.name)}</text>`);
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

function round1(value: number): string {
  return String(Math.round(value * 10) / 10);
}
