/**
 * The pages of an export in SQL: one keyset page over (created_at_ms, id) within [from, to), served by the
 * `*_created` indexes (0006 for transfers and payments, 0012 for refunds). The range and the cursor are parameters, never spliced in.
 */
import type { ExportKind, ExportRange, ExportRecord } from '../domain/export-format.js';
import type { ExportCursor, ExportStore } from '../services/export-service.js';
import type { SqlExecutor } from './database.js';

/** The columns each kind selects; table and column names are constants, never input. */
const selections: Readonly<Record<ExportKind, string>> = Object.freeze({
  transfers: `SELECT id::text AS id, created_at_ms, kind, debit_account_id::text AS debit_account_id,
      credit_account_id::text AS credit_account_id, amount, currency, pending_id::text AS pending_id, reference
    FROM transfers`,
  payments: `SELECT id::text AS id, created_at_ms, updated_at_ms, status, payer_id, payee_id, amount, currency,
      hold_transfer_id::text AS hold_transfer_id, payment_request_id::text AS payment_request_id
    FROM payments`,
  refunds: `SELECT id::text AS id, created_at_ms, status, merchant_id, payment_id::text AS payment_id, amount,
      currency
    FROM refunds`,
});

export const sqlExportStore: ExportStore = {
  async page(
    executor: SqlExecutor,
    kind: ExportKind,
    range: ExportRange,
    after: ExportCursor | undefined,
    rowsMax: number,
  ): Promise<ExportRecord[]> {
    const params: unknown[] = [BigInt(range.fromMs), BigInt(range.toMs), rowsMax];
    let resume = '';
    if (after !== undefined) {
      params.push(after.createdAtMs, after.id);
      resume = 'AND (created_at_ms, id) > ($4, $5::uuid)';
    }
    const rows = await executor.query<ExportRecord>(
      `${selections[kind]}
       WHERE created_at_ms >= $1 AND created_at_ms < $2 ${resume}
       ORDER BY created_at_ms, id LIMIT $3`,
      params,
    );
    // char(3) pads nothing for three letters, but trim keeps the currency exact whatever the engine returns.
    return rows.map((row) => ({ ...row, currency: row.currency.trim() }));
  },
};
