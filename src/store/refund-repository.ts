/**
 * Refunds in SQL: append-only rows, each the record of one ledger transfer.
 */
import type { ListCursor } from '../domain/merchant.js';
import type { Refund } from '../domain/refund.js';
import type { SqlExecutor } from '../services/database.js';
import type { RefundStore } from '../services/merchants/merchant-stores.js';
import { metadataFromText, metadataText } from './metadata-text.js';

interface RefundRow {
  [column: string]: unknown;
  id: string;
  merchant_id: string;
  payment_id: string;
  amount: bigint;
  currency: string;
  status: 'succeeded';
  metadata: string;
  created_at_ms: bigint;
}

function refundFromRow(row: RefundRow): Refund {
  return {
    id: row.id,
    merchantId: row.merchant_id,
    paymentId: row.payment_id,
    amount: row.amount,
    currency: row.currency,
    status: row.status,
    metadata: metadataFromText(row.metadata),
    createdAtMs: Number(row.created_at_ms),
  };
}

async function insertRefund(tx: SqlExecutor, refund: Refund): Promise<'inserted' | 'exists'> {
  const rows = await tx.query(
    `INSERT INTO refunds (id, merchant_id, payment_id, amount, currency, status, created_at_ms, metadata)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING RETURNING id`,
    [
      refund.id,
      refund.merchantId,
      refund.paymentId,
      refund.amount,
      refund.currency,
      refund.status,
      refund.createdAtMs,
      metadataText(refund.metadata),
    ],
  );
  return rows.length === 1 ? 'inserted' : 'exists';
}

async function selectRefund(tx: SqlExecutor, id: string): Promise<Refund | undefined> {
  const [row] = await tx.query<RefundRow>('SELECT * FROM refunds WHERE id = $1', [id]);
  return row === undefined ? undefined : refundFromRow(row);
}

async function listRefunds(
  tx: SqlExecutor,
  merchantId: string,
  limit: number,
  cursor: ListCursor | undefined,
): Promise<Refund[]> {
  const rows = await tx.query<RefundRow>(
    `SELECT * FROM refunds WHERE merchant_id = $1 AND (created_at_ms, id) < ($2::bigint, $3::uuid)
     ORDER BY created_at_ms DESC, id DESC LIMIT $4`,
    [
      merchantId,
      cursor?.createdAtMs ?? Number.MAX_SAFE_INTEGER,
      cursor?.id ?? 'ffffffff-ffff-ffff-ffff-ffffffffffff',
      limit,
    ],
  );
  return rows.map(refundFromRow);
}

async function sumRefunded(tx: SqlExecutor, paymentId: string): Promise<bigint> {
  const [row] = await tx.query<{ total: bigint }>(
    'SELECT COALESCE(sum(amount), 0)::bigint AS total FROM refunds WHERE payment_id = $1',
    [paymentId],
  );
  return row?.total ?? 0n;
}

/** The SQL implementation of RefundStore. */
export const sqlRefundStore: RefundStore = Object.freeze({
  insertRefund,
  selectRefund,
  listRefunds,
  sumRefunded,
});
