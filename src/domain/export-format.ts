/**
 * Exports for the books: the kinds, their columns, the range an export covers, and the pure formatting of
 * one row as CSV (RFC 4180, CRLF) or JSON Lines. No I/O here: the service streams pages through these.
 */
import { CountersignError } from './errors.js';
import { limits } from './limits.js';
import { formatDecimal } from './money.js';

/** What can be exported. */
export const exportKinds = Object.freeze(['transfers', 'payments', 'refunds'] as const);
export type ExportKind = (typeof exportKinds)[number];

/** The file formats. */
export const exportFormats = Object.freeze(['csv', 'jsonl'] as const);
export type ExportFormat = (typeof exportFormats)[number];

/** One row of an export before formatting: amounts in minor units, times in epoch milliseconds. */
export type ExportRecord = Readonly<Record<string, string | bigint | number | null>> & {
  readonly id: string;
  readonly created_at_ms: bigint;
  readonly amount: bigint;
  readonly currency: string;
};

/** The columns of each kind, in file order: stable names, documented in docs/operations.md. */
export const exportColumns: Readonly<Record<ExportKind, readonly string[]>> = Object.freeze({
  transfers: [
    'id',
    'created_at',
    'kind',
    'debit_account_id',
    'credit_account_id',
    'amount_minor',
    'amount',
    'currency',
    'pending_id',
    'reference',
  ],
  payments: [
    'id',
    'created_at',
    'updated_at',
    'status',
    'payer_id',
    'payee_id',
    'amount_minor',
    'amount',
    'currency',
    'hold_transfer_id',
    'payment_request_id',
  ],
  refunds: ['id', 'created_at', 'status', 'merchant_id', 'payment_id', 'amount_minor', 'amount', 'currency'],
});

/** The half-open range [from, to) of an export, in epoch milliseconds. */
export interface ExportRange {
  readonly fromMs: number;
  readonly toMs: number;
}

const datePattern = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?Z)?$/;
const dayMs = 24 * 60 * 60 * 1000;

/**
 * Parses a bound: a calendar date (`2026-11-01`, midnight UTC) or a UTC instant (`2026-11-01T12:00:00Z`).
 * Only UTC: a bound in local time would make the same command export different rows on different machines.
 */
export function parseExportBound(value: string, name: 'from' | 'to'): number {
  const ms = datePattern.test(value) ? Date.parse(value.length === 10 ? `${value}T00:00:00Z` : value) : NaN;
  // Date.parse rolls 2026-02-30 over to March: the round trip refuses a date that does not exist.
  if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== value.slice(0, 10)) {
    throw new CountersignError('invalid_request', {
      message: `${name} must be a UTC date (YYYY-MM-DD) or instant (…Z).`,
      param: name,
    });
  }
  return ms;
}

/** Parses and checks a whole request: kind, format and a range that is non-empty and not too long. */
export function parseExportRequest(input: { kind: string; format: string; from: string; to: string }): {
  kind: ExportKind;
  format: ExportFormat;
  range: ExportRange;
} {
  if (!(exportKinds as readonly string[]).includes(input.kind)) {
    throw new CountersignError('invalid_request', {
      message: `kind must be one of ${exportKinds.join(', ')}.`,
      param: 'kind',
    });
  }
  if (!(exportFormats as readonly string[]).includes(input.format)) {
    throw new CountersignError('invalid_request', {
      message: `format must be one of ${exportFormats.join(', ')}.`,
      param: 'format',
    });
  }
  const fromMs = parseExportBound(input.from, 'from');
  const toMs = parseExportBound(input.to, 'to');
  if (toMs <= fromMs) {
    throw new CountersignError('invalid_request', { message: 'to must be after from.', param: 'to' });
  }
  if (toMs - fromMs > limits.exportRangeDaysMax * dayMs) {
    throw new CountersignError('invalid_request', {
      message: `An export covers at most ${limits.exportRangeDaysMax} days; split the range.`,
      param: 'to',
    });
  }
  return { kind: input.kind as ExportKind, format: input.format as ExportFormat, range: { fromMs, toMs } };
}

/** The file's media type. */
export function exportContentType(format: ExportFormat): string {
  return format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson';
}

/** The download's file name: `countersign-transfers-2026-11-01-2026-12-01.csv`. */
export function exportFileName(kind: ExportKind, format: ExportFormat, range: ExportRange): string {
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  return `countersign-${kind}-${day(range.fromMs)}-${day(range.toMs)}.${format}`;
}

/** A row's values by column name: times as ISO 8601 UTC, amounts in minor units and in decimal. */
export function exportValues(kind: ExportKind, record: ExportRecord): Record<string, string | null> {
  const values: Record<string, string | null> = {};
  for (const column of exportColumns[kind]) {
    if (column === 'amount_minor') values[column] = record.amount.toString();
    else if (column === 'amount') values[column] = formatDecimal(record.amount, record.currency);
    else if (column.endsWith('_at')) {
      const ms = record[`${column}_ms`];
      values[column] = ms === null || ms === undefined ? null : new Date(Number(ms)).toISOString();
    } else {
      const value = record[column];
      values[column] = value === null || value === undefined ? null : String(value);
    }
  }
  return values;
}

/**
 * One CSV field. RFC 4180: quoted when it holds a comma, a quote, CR or LF, with quotes doubled. A field a
 * spreadsheet would run as a formula (starting with = + - @, tab or CR) is prefixed with `'`: the file is
 * opened by people in spreadsheets, and a reference chosen by a caller must never run there. No field the
 * platform produces itself (ids, times, amounts) starts with one, so only free text is ever changed.
 */
export function csvField(value: string | null): string {
  if (value === null) return '';
  const guarded = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(guarded) ? `"${guarded.replaceAll('"', '""')}"` : guarded;
}

/** The CSV header line, CRLF-terminated as RFC 4180 says. */
export function csvHeader(kind: ExportKind): string {
  return `${exportColumns[kind].join(',')}\r\n`;
}

/** One row as a CSV line. */
export function csvLine(kind: ExportKind, record: ExportRecord): string {
  const values = exportValues(kind, record);
  return `${exportColumns[kind].map((column) => csvField(values[column] ?? null)).join(',')}\r\n`;
}

/** One row as a JSON Lines line: the same names and values as the CSV, null where empty. */
export function jsonLine(kind: ExportKind, record: ExportRecord): string {
  return `${JSON.stringify(exportValues(kind, record))}\n`;
}
