/**
 * Exports for the books: every transfer, payment or refund created in [from, to), as CSV or JSON Lines,
 * produced a page at a time (keyset on created_at, id) so that memory stays bounded whatever the row count.
 */

import {
  csvHeader,
  csvLine,
  type ExportFormat,
  type ExportKind,
  type ExportRange,
  type ExportRecord,
  jsonLine,
} from '../../domain/export-format.js';
import { limits } from '../../domain/limits.js';
import { type Actor, assertMayAct } from '../../domain/operator.js';
import type { SqlExecutor } from '../database.js';

/** Where a page resumes: after this (created_at_ms, id). */
export interface ExportCursor {
  readonly createdAtMs: bigint;
  readonly id: string;
}

/** Reads one page of an export, ordered by (created_at_ms, id), strictly after `after` when given. */
export interface ExportStore {
  page(
    executor: SqlExecutor,
    kind: ExportKind,
    range: ExportRange,
    after: ExportCursor | undefined,
    rowsMax: number,
  ): Promise<ExportRecord[]>;
}

export class ExportService {
  constructor(
    private readonly executor: SqlExecutor,
    private readonly store: ExportStore,
  ) {}

  /** The rows of an export, a page at a time, in order. */
  async *records(
    kind: ExportKind,
    range: ExportRange,
    pageRowsMax: number = limits.exportPageRowsMax,
  ): AsyncGenerator<ExportRecord> {
    let after: ExportCursor | undefined;
    for (;;) {
      const page = await this.store.page(this.executor, kind, range, after, pageRowsMax);
      yield* page;
      if (page.length < pageRowsMax) return;
      const last = page[page.length - 1] as ExportRecord;
      after = { createdAtMs: last.created_at_ms, id: last.id };
    }
  }

  /**
   * The file as text chunks: the header (CSV), then one chunk per page. The actor's right is checked here,
   * before the first byte is produced, so a refused export writes nothing.
   */
  file(
    actor: Actor,
    kind: ExportKind,
    format: ExportFormat,
    range: ExportRange,
    pageRowsMax: number = limits.exportPageRowsMax,
  ): AsyncGenerator<string> {
    assertMayAct(actor, 'export_books');
    return this.chunks(kind, format, range, pageRowsMax);
  }

  private async *chunks(
    kind: ExportKind,
    format: ExportFormat,
    range: ExportRange,
    pageRowsMax: number,
  ): AsyncGenerator<string> {
    if (format === 'csv') yield csvHeader(kind);
    const line = format === 'csv' ? csvLine : jsonLine;
    let chunk = '';
    let rows = 0;
    for await (const record of this.records(kind, range, pageRowsMax)) {
      chunk += line(kind, record);
      if (++rows % pageRowsMax === 0) {
        yield chunk;
        chunk = '';
      }
    }
    if (chunk !== '') yield chunk;
  }
}
