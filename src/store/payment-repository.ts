/**
 * Payments, their code hashes and the delivery outbox in SQL.
 */
import type { DeliverTo, Payment, PaymentStatus } from '../domain/payment.js';
import type { SqlExecutor } from '../services/database.js';
import type { DeliveryInsert, PaymentStore } from '../services/payments/payment-store.js';
import { metadataFromText } from './metadata-text.js';

interface PaymentRow {
  [column: string]: unknown;
  id: string;
  payer_id: string;
  payee_id: string;
  amount: bigint;
  currency: string;
  status: PaymentStatus;
  deliver_to: DeliverTo;
  hold_transfer_id: string;
  failed_approvals: number;
  payment_request_id: string | null;
  metadata: string;
  created_at_ms: bigint;
  expires_at_ms: bigint;
  updated_at_ms: bigint;
}

const paymentColumns = `id, payer_id, payee_id, amount, currency, status, deliver_to, hold_transfer_id,
  failed_approvals, payment_request_id, metadata, created_at_ms, expires_at_ms, updated_at_ms`;

/** Maps a payments row to the domain's Payment. */
export function paymentFromRow(row: PaymentRow): Payment {
  return {
    id: row.id,
    payerId: row.payer_id,
    payeeId: row.payee_id,
    amount: row.amount,
    currency: row.currency,
    status: row.status,
    deliverTo: row.deliver_to,
    holdTransferId: row.hold_transfer_id,
    failedApprovals: row.failed_approvals,
    paymentRequestId: row.payment_request_id,
    metadata: metadataFromText(row.metadata),
    createdAtMs: Number(row.created_at_ms),
    expiresAtMs: Number(row.expires_at_ms),
    updatedAtMs: Number(row.updated_at_ms),
  };
}

async function selectPayment(tx: SqlExecutor, id: string, lock: boolean): Promise<Payment | undefined> {
  const [row] = await tx.query<PaymentRow>(
    `SELECT ${paymentColumns} FROM payments WHERE id = $1${lock ? ' FOR UPDATE' : ''}`,
    [id],
  );
  return row === undefined ? undefined : paymentFromRow(row);
}

async function insertDelivery(tx: SqlExecutor, delivery: DeliveryInsert): Promise<void> {
  await tx.query(
    `INSERT INTO deliveries (id, payer_id, payment_id, channel, payload_sealed, status, next_attempt_at_ms,
       created_at_ms)
     VALUES ($1, $2, $3, $4, $5, 'pending', $6, $6) ON CONFLICT (id) DO NOTHING`,
    [
      delivery.id,
      delivery.payerId,
      delivery.paymentId,
      delivery.channel,
      delivery.payloadSealed,
      delivery.nowMs,
    ],
  );
}

async function listPayerPayments(
  tx: SqlExecutor,
  payerId: string,
  limit: number,
  after?: { readonly createdAtMs: number; readonly id: string },
): Promise<Payment[]> {
  // The row comparison keeps payments created in the same millisecond apart, ordered by id.
  const rows =
    after === undefined
      ? await tx.query<PaymentRow>(
          `SELECT ${paymentColumns} FROM payments WHERE payer_id = $1
           ORDER BY created_at_ms DESC, id DESC LIMIT $2`,
          [payerId, limit],
        )
      : await tx.query<PaymentRow>(
          `SELECT ${paymentColumns} FROM payments
           WHERE payer_id = $1 AND (created_at_ms, id) < ($2::bigint, $3::uuid)
           ORDER BY created_at_ms DESC, id DESC LIMIT $4`,
          [payerId, after.createdAtMs, after.id, limit],
        );
  return rows.map(paymentFromRow);
}

/** The SQL implementation of PaymentStore. */
export const sqlPaymentStore: PaymentStore = Object.freeze({
  selectPayment,
  insertDelivery,
  listPayerPayments,
});
