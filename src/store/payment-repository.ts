/**
 * Payments, their code hashes and the delivery outbox in SQL.
 */
import type { DeliverTo, Payment, PaymentStatus } from '../domain/payment.js';
import type { DeliveryInsert, PaymentInsert, PaymentStore } from '../services/party-store.js';
import type { SqlExecutor } from './database.js';

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
  created_at_ms: bigint;
  expires_at_ms: bigint;
  updated_at_ms: bigint;
}

const paymentColumns = `id, payer_id, payee_id, amount, currency, status, deliver_to, hold_transfer_id,
  failed_approvals, payment_request_id, created_at_ms, expires_at_ms, updated_at_ms`;

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
    createdAtMs: Number(row.created_at_ms),
    expiresAtMs: Number(row.expires_at_ms),
    updatedAtMs: Number(row.updated_at_ms),
  };
}

async function insertPayment(
  tx: SqlExecutor,
  insert: PaymentInsert,
): Promise<'inserted' | 'code_collision' | 'exists'> {
  const p = insert.payment;
  // ON CONFLICT without a target covers both unique keys: the id (a retried request finds its payment)
  // and the open first code of the payer (a collision, which the caller resolves by drawing a new code).
  // Catching a unique violation instead would abort the whole PostgreSQL transaction.
  const rows = await tx.query(
    `INSERT INTO payments (${paymentColumns}, first_code_hash)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
     ON CONFLICT DO NOTHING RETURNING id`,
    [
      p.id,
      p.payerId,
      p.payeeId,
      p.amount,
      p.currency,
      p.status,
      p.deliverTo,
      p.holdTransferId,
      p.failedApprovals,
      p.paymentRequestId,
      p.createdAtMs,
      p.expiresAtMs,
      p.updatedAtMs,
      insert.firstCodeHash,
    ],
  );
  if (rows.length === 0) {
    const existing = await tx.query('SELECT id FROM payments WHERE id = $1', [p.id]);
    return existing.length === 1 ? 'exists' : 'code_collision';
  }
  if (insert.secondCodeHashes.length > 0) {
    await tx.query(
      `INSERT INTO payment_second_codes (payment_id, terminal_id, second_code_hash)
       SELECT $1, * FROM unnest($2::uuid[], $3::text[])`,
      [p.id, insert.secondCodeHashes.map((c) => c.terminalId), insert.secondCodeHashes.map((c) => c.hash)],
    );
  }
  return 'inserted';
}

async function selectPayment(tx: SqlExecutor, id: string, lock: boolean): Promise<Payment | undefined> {
  const [row] = await tx.query<PaymentRow>(
    `SELECT ${paymentColumns} FROM payments WHERE id = $1${lock ? ' FOR UPDATE' : ''}`,
    [id],
  );
  return row === undefined ? undefined : paymentFromRow(row);
}

async function selectCodeHashes(
  tx: SqlExecutor,
  id: string,
): Promise<{ firstCodeHash: string; secondCodeHashes: string[] } | undefined> {
  const [payment] = await tx.query<{ first_code_hash: string }>(
    'SELECT first_code_hash FROM payments WHERE id = $1',
    [id],
  );
  if (payment === undefined) return undefined;
  // A terminal revoked after the payment was created no longer approves it: revocation takes effect at once.
  const seconds = await tx.query<{ second_code_hash: string }>(
    `SELECT c.second_code_hash FROM payment_second_codes c JOIN terminals t ON t.id = c.terminal_id
     WHERE c.payment_id = $1 AND t.status = 'active'`,
    [id],
  );
  return { firstCodeHash: payment.first_code_hash, secondCodeHashes: seconds.map((s) => s.second_code_hash) };
}

async function updatePaymentStatus(
  tx: SqlExecutor,
  id: string,
  status: PaymentStatus,
  failedApprovals: number,
  nowMs: number,
): Promise<void> {
  await tx.query('UPDATE payments SET status = $2, failed_approvals = $3, updated_at_ms = $4 WHERE id = $1', [
    id,
    status,
    failedApprovals,
    nowMs,
  ]);
}

async function selectDuePayments(tx: SqlExecutor, nowMs: number, limit: number): Promise<Payment[]> {
  const rows = await tx.query<PaymentRow>(
    `SELECT ${paymentColumns} FROM payments WHERE status = 'requires_approval' AND expires_at_ms <= $1
     ORDER BY expires_at_ms LIMIT $2 FOR UPDATE SKIP LOCKED`,
    [nowMs, limit],
  );
  return rows.map(paymentFromRow);
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
  insertPayment,
  selectPayment,
  selectCodeHashes,
  updatePaymentStatus,
  selectDuePayments,
  insertDelivery,
  listPayerPayments,
});
